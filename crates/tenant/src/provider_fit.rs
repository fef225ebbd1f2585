//! Whether a reset mode can run on the provider a tenant is bound to. The mode is the YAML's
//! `reset.mode` (one place: it is versioned and rolled back with the rest of the flow it
//! shapes); the provider is the platform admin's binding. Both sides check the fit: a
//! binding write, a config write and startup refuse a mode the provider cannot serve.

use std::fmt;

use crate::config::ResetMode;

/// The identity-provider family of a binding. The YAML never names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderFamily {
    /// Auth0 (Management + Authentication API).
    Auth0,
    /// Janrain / Akamai Identity Cloud (Capture).
    Janrain,
}

impl ProviderFamily {
    /// The stored spelling (`auth0`, `janrain`).
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "auth0" => Some(Self::Auth0),
            "janrain" => Some(Self::Janrain),
            _ => None,
        }
    }

    /// Human name for messages.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Auth0 => "Auth0",
            Self::Janrain => "Janrain",
        }
    }

    /// The modes that run on this provider.
    pub fn modes(self) -> &'static [ResetMode] {
        match self {
            Self::Auth0 => &[
                ResetMode::Hosted,
                ResetMode::Auth0Ticket,
                ResetMode::Auth0Email,
            ],
            Self::Janrain => &[ResetMode::Janrain],
        }
    }
}

impl ResetMode {
    /// The YAML spelling (`hosted`, `auth0_ticket`, `auth0_email`, `janrain`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hosted => "hosted",
            Self::Auth0Ticket => "auth0_ticket",
            Self::Auth0Email => "auth0_email",
            Self::Janrain => "janrain",
        }
    }

    /// Parses the YAML spelling (also used for the deprecated mode of old bindings).
    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Hosted,
            Self::Auth0Ticket,
            Self::Auth0Email,
            Self::Janrain,
        ]
        .into_iter()
        .find(|mode| mode.as_str() == raw)
    }

    /// Whether this mode runs on `provider`: hosted, ticket and provider-email need Auth0's
    /// Management or Authentication API; the Janrain mode needs Capture's emailed code.
    pub fn fits(self, provider: ProviderFamily) -> bool {
        provider.modes().contains(&self)
    }
}

/// A mode the bound provider cannot run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModeMismatch {
    /// The YAML's `reset.mode`.
    pub mode: ResetMode,
    /// The binding's provider.
    pub provider: ProviderFamily,
}

impl fmt::Display for ModeMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fitting: Vec<&str> = self.provider.modes().iter().map(|m| m.as_str()).collect();
        write!(
            f,
            "reset.mode `{}` does not fit the tenant's {} binding; {} runs the modes: {}",
            self.mode.as_str(),
            self.provider.display_name(),
            self.provider.display_name(),
            fitting.join(", ")
        )
    }
}

impl std::error::Error for ModeMismatch {}

/// `Ok` when `mode` runs on `provider`.
pub fn check_mode_fits(mode: ResetMode, provider: ProviderFamily) -> Result<(), ModeMismatch> {
    if mode.fits(provider) {
        Ok(())
    } else {
        Err(ModeMismatch { mode, provider })
    }
}

/// The `reset.mode` a document declares (`hosted` when it names none), read without the full
/// validation: for checking a binding against the stored, already validated YAML. `None` when
/// the text does not parse or is over the size cap.
pub fn declared_reset_mode(text: &str) -> Option<ResetMode> {
    #[derive(serde::Deserialize)]
    struct Doc {
        #[serde(default)]
        reset: Option<Reset>,
    }
    #[derive(serde::Deserialize)]
    struct Reset {
        #[serde(default)]
        mode: Option<ResetMode>,
    }
    if text.len() > crate::limits::MAX_DOCUMENT_BYTES {
        return None;
    }
    let doc: Doc = serde_saphyr::from_str_with_options(text, crate::parse::options()).ok()?;
    Some(doc.reset.and_then(|r| r.mode).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mode_fits_exactly_its_providers() {
        use ProviderFamily::{Auth0, Janrain};
        for (mode, auth0, janrain) in [
            (ResetMode::Hosted, true, false),
            (ResetMode::Auth0Ticket, true, false),
            (ResetMode::Auth0Email, true, false),
            (ResetMode::Janrain, false, true),
        ] {
            assert_eq!(mode.fits(Auth0), auth0, "{mode:?} on Auth0");
            assert_eq!(mode.fits(Janrain), janrain, "{mode:?} on Janrain");
            assert_eq!(ResetMode::parse(mode.as_str()), Some(mode));
        }
    }

    #[test]
    fn the_declared_mode_is_read_without_validation() {
        let yaml = "id: acme\nreset:\n  mode: janrain\n  token_ttl: 30m\nother: [1]\n";
        assert_eq!(declared_reset_mode(yaml), Some(ResetMode::Janrain));
        assert_eq!(declared_reset_mode("id: acme\n"), Some(ResetMode::Hosted));
        assert_eq!(declared_reset_mode("reset: {mode: nope}"), None);
    }

    #[test]
    fn a_mismatch_names_the_mode_the_provider_and_what_fits() {
        let text = check_mode_fits(ResetMode::Auth0Ticket, ProviderFamily::Janrain)
            .unwrap_err()
            .to_string();
        assert!(text.contains("`auth0_ticket`"), "{text}");
        assert!(text.contains("Janrain"), "{text}");
        assert!(text.contains("janrain"), "{text}");
        let text = check_mode_fits(ResetMode::Janrain, ProviderFamily::Auth0)
            .unwrap_err()
            .to_string();
        assert!(text.contains("hosted, auth0_ticket, auth0_email"), "{text}");
    }
}
