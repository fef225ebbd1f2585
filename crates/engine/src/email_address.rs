//! The email a user submits on the request step.
//!
//! It must be exactly one address in a strict grammar (security.md item 15): lists, CR/LF,
//! `cc:` tricks, comments and quoted local parts are refused, and non-ASCII is refused rather
//! than case-folded (item 16: `user@gıthub.com` must never match `user@github.com`). A refused
//! address is answered exactly like an unknown one by the caller, so the grammar reveals
//! nothing. The submitted string is only ever a lookup key: mail goes to the address the
//! identity provider stores.

use std::fmt;

/// Longest address accepted (RFC 5321 path limit minus the angle brackets).
const MAX_LEN: usize = 254;
/// Longest local part (RFC 5321 4.5.3.1.1).
const MAX_LOCAL_LEN: usize = 64;

/// A syntactically valid, single, ASCII email address as submitted.
#[derive(Clone, PartialEq, Eq)]
pub struct SubmittedEmail(String);

impl SubmittedEmail {
    /// Parses the submitted value; surrounding ASCII spaces are ignored, nothing else is
    /// forgiven.
    pub fn parse(raw: &str) -> Option<Self> {
        let candidate = raw.trim_matches(' ');
        if candidate.is_empty() || candidate.len() > MAX_LEN || !candidate.is_ascii() {
            return None;
        }
        let (local, domain) = candidate.split_once('@')?;
        (valid_local_part(local) && valid_domain(domain)).then(|| Self(candidate.to_owned()))
    }

    /// The key to look the user up with: ASCII-lowercased (Auth0 stores database-connection
    /// emails lowercased and matches `users-by-email` case-sensitively).
    pub fn lookup_key(&self) -> String {
        self.0.to_ascii_lowercase()
    }

    /// The local part, lowercased: a context word for the personal-information rule.
    pub fn local_part(&self) -> String {
        self.0
            .split_once('@')
            .map_or_else(String::new, |(local, _)| local.to_ascii_lowercase())
    }
}

impl fmt::Debug for SubmittedEmail {
    // Emails are personal data: logs get a masked form only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SubmittedEmail({})", mask(&self.0))
    }
}

/// `ada@example.com` → `a***@example.com`: enough to tell two users apart in a log, not enough
/// to reveal the address.
pub fn mask(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

/// `ada@acme-shop.example.com` → `a••@acme-shop.example.com`: what the new-password page
/// shows of the account a link is bound to. The first character of the local part, two
/// bullets whatever its length (the length is not revealed), then the domain.
pub fn mask_account(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}\u{2022}\u{2022}@{domain}")
        }
        None => "\u{2022}\u{2022}".to_owned(),
    }
}

fn valid_local_part(local: &str) -> bool {
    const SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-";
    !local.is_empty()
        && local.len() <= MAX_LOCAL_LEN
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || SPECIALS.contains(c))
        // `|` and `,` separated lists are the classic parameter-pollution payloads.
        && !local.contains('|')
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_alphabetic()) && tld.len() >= 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_masked_account_keeps_the_first_character_and_the_domain() {
        assert_eq!(
            mask_account("ada@acme-shop.example.com"),
            "a\u{2022}\u{2022}@acme-shop.example.com"
        );
        assert_eq!(mask_account("a@x.example"), "a\u{2022}\u{2022}@x.example");
        assert!(!mask_account("adalovelace@x.example").contains("dalovelace"));
    }

    #[test]
    fn ordinary_addresses_parse_and_lowercase_for_lookup() {
        let email = SubmittedEmail::parse(" Ada.Lovelace+reset@Example.COM ").unwrap();
        assert_eq!(email.lookup_key(), "ada.lovelace+reset@example.com");
        assert_eq!(email.local_part(), "ada.lovelace+reset");
    }

    #[test]
    fn pollution_and_injection_payloads_are_refused() {
        for payload in [
            "",
            "a@b",
            "victim@example.com,attacker@evil.test",
            "victim@example.com attacker@evil.test",
            "victim@example.com|attacker@evil.test",
            "victim@example.com\r\nbcc:attacker@evil.test",
            "victim@example.com\nCc: attacker@evil.test",
            "victim@example.com%00attacker@evil.test",
            "victim@example.com\0",
            "\"quoted\"@example.com",
            "(comment)victim@example.com",
            "user@gıthub.com",
            "usér@example.com",
            "a@@example.com",
            ".a@example.com",
            "a..b@example.com",
            "a@-example.com",
            "a@example.c0m",
            "<victim@example.com>",
        ] {
            assert_eq!(SubmittedEmail::parse(payload), None, "{payload:?}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert_eq!(SubmittedEmail::parse(&long_local), None);
    }

    #[test]
    fn debug_masks_the_address() {
        let email = SubmittedEmail::parse("ada@example.com").unwrap();
        assert_eq!(format!("{email:?}"), "SubmittedEmail(a***@example.com)");
    }
}
