//! CSRF protection for every form POST, in two independent layers (security.md item 38):
//!
//! 1. **Fetch Metadata / Origin**: `Sec-Fetch-Site` must be `same-origin` (or `none`); when a
//!    browser sends no `Sec-Fetch-Site`, `Origin` (or else `Referer`) must be one of our
//!    origins; a POST with none of the three is refused.
//! 2. **Signed double submit**: the form's `csrf_token` must equal
//!    `HMAC-SHA256(key, "passgate/csrf/v1/" ‖ cookie)` where `cookie` is the random value of
//!    the `__Host-pg-csrf` cookie and `key` is the engine keyring's `derive("csrf")`. The
//!    comparison is constant-time.
//!
//! Either failure is a 403 before any work: no mail, no provider call.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use poem::Request;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::cookies::{self, CSRF_COOKIE};
use crate::settings::WebSettings;

/// The key CSRF tokens are signed with, kept as the MAC already keyed and fed the domain
/// prefix (signing a cookie then hashes only the cookie). `Debug` hides it.
/// (`None` only if the MAC refused the key, which HMAC never does: signing then fails.)
#[derive(Clone)]
pub struct CsrfKey(Option<Hmac<Sha256>>);

/// What every signed cookie is prefixed with (domain separation from other uses of the key).
const DOMAIN: &[u8] = b"passgate/csrf/v1/";

impl CsrfKey {
    /// Wraps a 32-byte key (use the engine keyring's `derive("csrf")`).
    pub fn new(key: [u8; 32]) -> Self {
        let keyed = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).ok();
        Self(keyed.map(|mut mac| {
            mac.update(DOMAIN);
            mac
        }))
    }

    fn sign(&self, cookie: &str) -> Option<String> {
        let mut mac = self.0.clone()?;
        mac.update(cookie.as_bytes());
        Some(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }
}

impl std::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfKey(<redacted>)")
    }
}

/// The token for a page's form, and the cookie to set when the browser has none yet.
#[derive(Debug, Clone)]
pub struct CsrfIssue {
    /// The hidden `csrf_token` value.
    pub token: String,
    /// `Set-Cookie` value, when a new cookie was minted.
    pub set_cookie: Option<String>,
}

/// A usable cookie value: exactly what [`issue`] mints (43 base64url characters).
fn well_formed(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The CSRF token for a page rendered in answer to `req`, reusing its cookie if it has one.
pub fn issue(key: &CsrfKey, req: &Request) -> Option<CsrfIssue> {
    if let Some(cookie) = cookies::get(req, CSRF_COOKIE).filter(|c| well_formed(c)) {
        return Some(CsrfIssue {
            token: key.sign(&cookie)?,
            set_cookie: None,
        });
    }
    let cookie = super::random_b64::<32>()?;
    Some(CsrfIssue {
        token: key.sign(&cookie)?,
        set_cookie: Some(cookies::set(CSRF_COOKIE, &cookie, None)),
    })
}

/// Why a form POST was refused (for logs; the user sees one 403 page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsrfRefusal {
    /// `Sec-Fetch-Site` says another site sent it.
    CrossSite,
    /// `Origin` or `Referer` names another origin.
    ForeignOrigin,
    /// Neither `Sec-Fetch-Site`, `Origin` nor `Referer` was sent.
    NoProvenance,
    /// The cookie or the form token is missing or does not match.
    BadToken,
}

impl CsrfRefusal {
    /// A stable word for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CrossSite => "cross_site",
            Self::ForeignOrigin => "foreign_origin",
            Self::NoProvenance => "no_provenance",
            Self::BadToken => "bad_token",
        }
    }
}

/// Checks both layers for a form POST whose `csrf_token` field is `submitted`.
pub fn verify(
    key: &CsrfKey,
    settings: &WebSettings,
    req: &Request,
    submitted: Option<&str>,
) -> Result<(), CsrfRefusal> {
    check_provenance(settings, req)?;
    verify_token(key, req, submitted)
}

/// The signed-double-submit layer alone: the form token must sign the cookie.
pub fn verify_token(
    key: &CsrfKey,
    req: &Request,
    submitted: Option<&str>,
) -> Result<(), CsrfRefusal> {
    let cookie = cookies::get(req, CSRF_COOKIE)
        .filter(|c| well_formed(c))
        .ok_or(CsrfRefusal::BadToken)?;
    let expected = key.sign(&cookie).ok_or(CsrfRefusal::BadToken)?;
    let submitted = submitted.ok_or(CsrfRefusal::BadToken)?;
    if bool::from(expected.as_bytes().ct_eq(submitted.as_bytes())) {
        Ok(())
    } else {
        Err(CsrfRefusal::BadToken)
    }
}

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The Fetch Metadata / Origin layer alone. Fetch Metadata first, then `Origin`, then `Referer` (OWASP CSRF cheat sheet).
pub fn check_provenance(settings: &WebSettings, req: &Request) -> Result<(), CsrfRefusal> {
    if let Some(site) = header(req, "sec-fetch-site") {
        return match site {
            "same-origin" | "none" => Ok(()),
            _ => Err(CsrfRefusal::CrossSite),
        };
    }
    if req.headers().get_all("origin").iter().count() > 1 {
        return Err(CsrfRefusal::ForeignOrigin);
    }
    let origin = match header(req, "origin") {
        Some(origin) if origin != "null" => origin.to_owned(),
        Some(_) => return Err(CsrfRefusal::ForeignOrigin),
        None => match header(req, "referer").and_then(|r| url::Url::parse(r).ok()) {
            Some(referer) => referer.origin().ascii_serialization(),
            None => return Err(CsrfRefusal::NoProvenance),
        },
    };
    if origin_is_ours(settings, &origin) {
        Ok(())
    } else {
        Err(CsrfRefusal::ForeignOrigin)
    }
}

fn origin_is_ours(settings: &WebSettings, origin: &str) -> bool {
    if origin.eq_ignore_ascii_case(settings.public_origin()) {
        return true;
    }
    settings
        .custom_hosts
        .keys()
        .any(|host| origin.eq_ignore_ascii_case(&format!("https://{host}")))
}
