//! The reset credential between pages, held in the `__Host-pg-reset` cookie so that it
//! leaves the address bar after the first request (security.md item 34).
//!
//! `GET /reset/confirm?token=T` answers `303 /reset/confirm` with the token in this cookie;
//! every later page and the final POST read it from there. The cookie is `HttpOnly`,
//! `Secure`, `Path=/`, short-lived, and `SameSite=Lax` — not `Strict`, because the link is
//! opened from a mail client or webmail (a cross-site navigation), and Chromium withholds
//! `Strict` cookies on a redirect chain that started cross-site. `Lax` is still never sent
//! on a cross-site POST, and every POST also needs the `Strict` CSRF cookie's token.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use passgate_engine::Credential;
use poem::Request;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::security::cookies::{self, RESET_COOKIE};

/// Longest credential text taken from a URL or form (tokens are ~43 characters).
pub const MAX_CREDENTIAL_LEN: usize = 512;

/// A reset credential and what the pages need to show it.
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "k")]
pub enum Held {
    /// A hosted link's token.
    #[serde(rename = "t")]
    Link {
        /// The token.
        t: String,
    },
    /// Code mode: the flow id and the typed code.
    #[serde(rename = "c")]
    Code {
        /// Client id of the app.
        c: String,
        /// Flow id from the request answer.
        f: String,
        /// The code.
        d: String,
        /// Locale.
        l: String,
    },
    /// Janrain: the code from Janrain's link.
    #[serde(rename = "j")]
    Janrain {
        /// Client id of the landing page.
        c: String,
        /// Janrain's code.
        d: String,
        /// Locale.
        l: String,
    },
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Link { .. } => f.write_str("Held::Link(<redacted>)"),
            Self::Code { c, .. } => write!(f, "Held::Code({c}, <redacted>)"),
            Self::Janrain { c, .. } => write!(f, "Held::Janrain({c}, <redacted>)"),
        }
    }
}

impl Held {
    /// The credential in the request's reset cookie, if any and well-formed.
    pub fn from_request(req: &Request) -> Option<Self> {
        let raw = cookies::get(req, RESET_COOKIE)?;
        if raw.len() > 4 * MAX_CREDENTIAL_LEN {
            return None;
        }
        let json = URL_SAFE_NO_PAD.decode(raw).ok()?;
        serde_json::from_slice(&json).ok()
    }

    /// `Set-Cookie` holding this credential for `max_age` seconds.
    pub fn set_cookie(&self, max_age: u64) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        let value = URL_SAFE_NO_PAD.encode(json);
        format!("{RESET_COOKIE}={value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={max_age}")
    }

    /// `Set-Cookie` that deletes the reset cookie.
    pub fn clear_cookie() -> String {
        format!("{RESET_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0")
    }

    /// The client id this credential names, when it names one (codes do; links do not
    /// until the engine has looked the token up).
    pub fn client_id(&self) -> Option<&str> {
        match self {
            Self::Link { .. } => None,
            Self::Code { c, .. } | Self::Janrain { c, .. } => Some(c),
        }
    }

    /// The engine's form of the credential.
    pub fn credential(&self) -> Credential {
        match self {
            Self::Link { t } => Credential::Link { token: t.clone() },
            Self::Code { f, d, .. } => Credential::Code {
                flow_id: f.clone(),
                code: d.clone(),
            },
            Self::Janrain { c, d, .. } => Credential::Janrain {
                client_id: c.clone(),
                code: SecretString::from(d.clone()),
            },
        }
    }
}
