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
        /// Client id of the app the link was issued for, so the page for a link that died
        /// while held still wears that app's branding and offers its request form.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        c: Option<String>,
        /// The reset's locale, for the same page.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        l: Option<String>,
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
        read_json_cookie(req, RESET_COOKIE)
    }

    /// `Set-Cookie` holding this credential for `max_age` seconds.
    pub fn set_cookie(&self, max_age: u64) -> String {
        json_cookie(RESET_COOKIE, self, max_age)
    }

    /// `Set-Cookie` that deletes the reset cookie.
    pub fn clear_cookie() -> String {
        format!("{RESET_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0")
    }

    /// The client id this credential names, when it names one (codes do; links since
    /// the engine looked the token up when it went into the cookie).
    pub fn client_id(&self) -> Option<&str> {
        match self {
            Self::Link { c, .. } => c.as_deref(),
            Self::Code { c, .. } | Self::Janrain { c, .. } => Some(c),
        }
    }

    /// The reset's locale, when the cookie carries it.
    pub fn locale(&self) -> Option<&str> {
        match self {
            Self::Link { l, .. } => l.as_deref(),
            Self::Code { l, .. } | Self::Janrain { l, .. } => Some(l),
        }
    }

    /// The engine's form of the credential.
    pub fn credential(&self) -> Credential {
        match self {
            Self::Link { t, .. } => Credential::Link { token: t.clone() },
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

/// The cookie that remembers a finished reset for a few minutes, so that Back or Reload
/// after "Password changed" shows that page again instead of "This link can no longer be
/// used". It holds no secret: forging it only shows oneself a success page.
pub const DONE_COOKIE: &str = "__Host-pg-done";

/// How long [`DONE_COOKIE`] lives, in seconds.
const DONE_MAX_AGE_SECS: u64 = 15 * 60;

/// A finished reset, as [`DONE_COOKIE`] remembers it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Done {
    /// Client id of the app.
    pub c: String,
    /// The reset's locale.
    pub l: String,
    /// The redirect URI the request named, if any (checked against the allowlist again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r: Option<String>,
}

impl Done {
    /// The finished reset in the request's cookie, if any and well-formed.
    pub fn from_request(req: &Request) -> Option<Self> {
        read_json_cookie(req, DONE_COOKIE)
    }

    /// `Set-Cookie` remembering this finished reset.
    pub fn set_cookie(&self) -> String {
        json_cookie(DONE_COOKIE, self, DONE_MAX_AGE_SECS)
    }
}

/// The value of cookie `name` (base64url JSON), if present, not oversized and well-formed.
fn read_json_cookie<T: serde::de::DeserializeOwned>(req: &Request, name: &str) -> Option<T> {
    let raw = cookies::get(req, name)?;
    if raw.len() > 4 * MAX_CREDENTIAL_LEN {
        return None;
    }
    let json = URL_SAFE_NO_PAD.decode(raw).ok()?;
    serde_json::from_slice(&json).ok()
}

/// `Set-Cookie` for `value` as base64url JSON: `HttpOnly`, `Secure`, `SameSite=Lax`.
fn json_cookie<T: Serialize>(name: &str, value: &T, max_age: u64) -> String {
    let json = serde_json::to_vec(value).unwrap_or_default();
    let value = URL_SAFE_NO_PAD.encode(json);
    format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={max_age}")
}

/// The cookie holding a code-mode request's flow id between "we sent a code" (a 303 after
/// the POST) and the code form, so the address bar never carries it and reloading the
/// code page sends no second mail.
pub const FLOW_COOKIE: &str = "__Host-pg-flow";

/// `Set-Cookie` holding `flow_id` for `max_age` seconds.
pub fn flow_cookie(flow_id: &str, max_age: u64) -> String {
    format!("{FLOW_COOKIE}={flow_id}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={max_age}")
}

/// The flow id in the request's flow cookie, if well-formed (URL-safe base64).
pub fn flow_from_request(req: &Request) -> Option<String> {
    let raw = cookies::get(req, FLOW_COOKIE)?;
    let well_formed = !raw.is_empty()
        && raw.len() <= MAX_CREDENTIAL_LEN
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    well_formed.then_some(raw)
}
