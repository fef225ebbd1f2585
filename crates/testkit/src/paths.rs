//! Paths into the repository: tests read the shipped themes and tenants, and start the
//! binary from the workspace root.

use std::path::PathBuf;

/// The workspace root (canonical when it exists, as it always does in a checkout).
pub fn workspace_root() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// The repository's `themes/`.
pub fn themes_dir() -> PathBuf {
    workspace_root().join("themes")
}

/// The repository's example tenants, `tenants/`.
pub fn tenants_dir() -> PathBuf {
    workspace_root().join("tenants")
}
