//! Auth0's database-connection password checks as the spec describes them (A8): the strength
//! levels of password-sheriff, a dictionary, and the "no personal info" rule.

use serde::{Deserialize, Serialize};

/// `options.passwordPolicy`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyLevel {
    /// At least 1 character.
    #[default]
    None,
    /// At least 6 characters.
    Low,
    /// At least 8, with lower, upper and digit.
    Fair,
    /// At least 8, with 3 of lower, upper, digit, special.
    Good,
    /// At least 10, 3 of 4 kinds, and no character three times in a row.
    Excellent,
}

/// password-sheriff's special characters: space and ASCII punctuation.
fn is_special(c: char) -> bool {
    c == ' ' || c.is_ascii_punctuation()
}

/// Whether `password` meets `level` (with `min_length` overriding the level's minimum).
pub fn meets_strength(level: PolicyLevel, min_length: Option<usize>, password: &str) -> bool {
    let length = password.chars().count();
    let level_min = match level {
        PolicyLevel::None => 1,
        PolicyLevel::Low => 6,
        PolicyLevel::Fair | PolicyLevel::Good => 8,
        PolicyLevel::Excellent => 10,
    };
    if length < min_length.unwrap_or(level_min) {
        return false;
    }
    let lower = password.chars().any(|c| c.is_ascii_lowercase());
    let upper = password.chars().any(|c| c.is_ascii_uppercase());
    let digit = password.chars().any(|c| c.is_ascii_digit());
    let special = password.chars().any(is_special);
    let kinds = [lower, upper, digit, special]
        .iter()
        .filter(|k| **k)
        .count();
    match level {
        PolicyLevel::None | PolicyLevel::Low => true,
        PolicyLevel::Fair => lower && upper && digit,
        PolicyLevel::Good => kinds >= 3,
        PolicyLevel::Excellent => kinds >= 3 && !has_triple(password),
    }
}

fn has_triple(password: &str) -> bool {
    let chars: Vec<char> = password.chars().collect();
    chars.windows(3).any(|w| w[0] == w[1] && w[1] == w[2])
}

/// A short stand-in for Auth0's built-in 10k list: the most common passwords.
const BUILT_IN_DICTIONARY: &[&str] = &[
    "123456",
    "password",
    "12345678",
    "qwerty",
    "123456789",
    "12345",
    "1234",
    "111111",
    "1234567",
    "dragon",
    "123123",
    "baseball",
    "abc123",
    "football",
    "monkey",
    "letmein",
    "696969",
    "shadow",
    "master",
    "666666",
    "qwertyuiop",
    "123321",
    "mustang",
    "1234567890",
    "michael",
    "654321",
    "superman",
    "1qaz2wsx",
    "7777777",
    "121212",
    "000000",
    "qazwsx",
    "123qwe",
    "killer",
    "trustno1",
    "jordan",
    "jennifer",
    "zxcvbnm",
    "asdfgh",
    "hunter",
    "buster",
    "soccer",
    "harley",
    "batman",
    "andrew",
    "tigger",
    "sunshine",
    "iloveyou",
    "2000",
    "charlie",
    "robert",
    "thomas",
    "hockey",
    "ranger",
    "daniel",
    "starwars",
    "klaster",
    "112233",
    "george",
    "computer",
    "michelle",
    "jessica",
    "pepper",
    "1111",
    "zxcvbn",
    "555555",
    "11111111",
    "131313",
    "freedom",
    "777777",
    "pass",
    "maggie",
    "159753",
    "aaaaaa",
    "ginger",
    "princess",
    "joshua",
    "cheese",
    "amanda",
    "summer",
    "love",
    "ashley",
    "6969",
    "nicole",
    "chelsea",
    "biteme",
    "matthew",
    "access",
    "yankees",
    "987654321",
    "dallas",
    "austin",
    "thunder",
    "taylor",
    "matrix",
    "password1",
    "password123",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "welcome",
    "welcome1",
    "admin",
    "administrator",
    "changeme",
    "letmein1",
    "qwerty123",
    "iloveyou1",
    "Password1!",
];

/// Whether `password` is in the built-in or custom dictionary (case-insensitive).
pub fn in_dictionary(custom: &[String], password: &str) -> bool {
    let lowered = password.to_lowercase();
    BUILT_IN_DICTIONARY
        .iter()
        .any(|w| w.to_lowercase() == lowered)
        || custom.iter().any(|w| w.to_lowercase() == lowered)
}

/// Whether `password` contains the user's name parts or email local part (case-insensitive;
/// parts shorter than 3 characters are ignored so "Al" does not forbid every "al").
pub fn contains_personal_info(password: &str, email: &str, name: Option<&str>) -> bool {
    let lowered = password.to_lowercase();
    let local = email.split('@').next().unwrap_or("");
    let name_parts = name.into_iter().flat_map(str::split_whitespace);
    std::iter::once(local)
        .chain(name_parts)
        .map(str::to_lowercase)
        .filter(|part| part.chars().count() >= 3)
        .any(|part| lowered.contains(&part))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_the_spec_table() {
        use PolicyLevel::*;
        assert!(meets_strength(None, Option::None, "a"));
        assert!(!meets_strength(Low, Option::None, "abcde"));
        assert!(meets_strength(Low, Option::None, "abcdef"));
        assert!(!meets_strength(Fair, Option::None, "abcdefg1"));
        assert!(meets_strength(Fair, Option::None, "Abcdefg1"));
        assert!(!meets_strength(Good, Option::None, "abcdefg1"));
        assert!(meets_strength(Good, Option::None, "abcdefg1!"));
        assert!(meets_strength(Good, Option::None, "ABCDEFG1!"));
        assert!(!meets_strength(Excellent, Option::None, "Abcdefg1!"));
        assert!(meets_strength(Excellent, Option::None, "Abcdefgh1!"));
        assert!(!meets_strength(Excellent, Option::None, "Abcdeffff1!"));
        assert!(!meets_strength(None, Some(12), "Abcdefgh1!"));
    }

    #[test]
    fn dictionary_and_personal_info() {
        assert!(in_dictionary(&[], "PASSWORD"));
        assert!(in_dictionary(&["acme2026".into()], "Acme2026"));
        assert!(!in_dictionary(&[], "correct horse battery"));
        assert!(contains_personal_info(
            "Jane1234!",
            "jane@example.com",
            None
        ));
        assert!(contains_personal_info(
            "xxDoe-99",
            "j@example.com",
            Some("Jane Doe")
        ));
        assert!(!contains_personal_info(
            "Tr0ub4dor&3",
            "jane@example.com",
            Some("Jane Doe")
        ));
    }
}
