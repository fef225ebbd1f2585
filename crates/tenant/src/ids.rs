//! Identifiers that name a tenant or one of its apps. Both are restricted to a small, URL- and
//! log-safe alphabet so they can appear in paths, SQL and log lines without escaping.

use std::fmt;

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The identifier is empty or longer than allowed.
    #[error("must be 1 to {max} characters long")]
    Length {
        /// The longest identifier allowed.
        max: usize,
    },
    /// The identifier contains a character outside its alphabet.
    #[error("may contain only {allowed}")]
    Charset {
        /// A human description of the allowed alphabet.
        allowed: &'static str,
    },
}

/// A tenant id such as `acme-shop`: lowercase ASCII letters, digits and `-`, starting with a
/// letter, at most 63 characters (it also works as a DNS label and a metrics label).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct TenantId(String);

impl TenantId {
    /// Longest tenant id accepted.
    pub const MAX_LEN: usize = 63;

    /// Parses a tenant id.
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        if raw.is_empty() || raw.len() > Self::MAX_LEN {
            return Err(IdError::Length { max: Self::MAX_LEN });
        }
        let mut chars = raw.chars();
        let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
        let rest_ok = raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !starts_with_letter || !rest_ok || raw.ends_with('-') {
            return Err(IdError::Charset {
                allowed: "lowercase letters, digits and '-', starting with a letter and not ending with '-'",
            });
        }
        Ok(Self(raw.to_owned()))
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for TenantId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl<'de> serde::Deserialize<'de> for TenantId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// The client id an app sends (`?client_id=…`), e.g. an Auth0 application's client id or a
/// name such as `acme-shop-ios`: ASCII letters, digits, `-`, `_` and `.`, at most 128 chars.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct ClientId(String);

impl ClientId {
    /// Longest client id accepted.
    pub const MAX_LEN: usize = 128;

    /// Parses a client id.
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        if raw.is_empty() || raw.len() > Self::MAX_LEN {
            return Err(IdError::Length { max: Self::MAX_LEN });
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(IdError::Charset {
                allowed: "ASCII letters, digits, '-', '_' and '.'",
            });
        }
        Ok(Self(raw.to_owned()))
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for ClientId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl<'de> serde::Deserialize<'de> for ClientId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids_are_dns_label_like() {
        assert!(TenantId::parse("acme-shop").is_ok());
        assert!(TenantId::parse("Acme").is_err());
        assert!(TenantId::parse("9acme").is_err());
        assert!(TenantId::parse("acme-").is_err());
        assert!(TenantId::parse("").is_err());
        assert!(TenantId::parse(&"a".repeat(64)).is_err());
    }

    #[test]
    fn client_ids_refuse_separators_and_spaces() {
        assert!(ClientId::parse("acme-shop_ios.v2").is_ok());
        assert!(ClientId::parse("a b").is_err());
        assert!(ClientId::parse("a/b").is_err());
        assert!(ClientId::parse("").is_err());
    }
}
