//! The bundled list of common passwords (see `data/common-passwords.txt` for its source and
//! license), parsed once per process into a set of lowercase entries.

use std::collections::HashSet;
use std::sync::LazyLock;

/// The list as shipped: `#` lines are comments, every other non-empty line is an entry.
const COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

/// Lowercase entries of [`COMMON_PASSWORDS`], built on first use (about 30,000 entries).
static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    COMMON_PASSWORDS
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
});

/// Whether `lowercase` (the whole candidate, already lowercased) is a common password.
pub(crate) fn is_common(lowercase: &str) -> bool {
    COMMON.contains(lowercase)
}

/// Number of entries in the bundled list (documented and tested to be at least 10,000).
pub fn common_password_count() -> usize {
    COMMON.len()
}
