//! Console sessions: a person signs in once with a personal admin key; the browser then holds
//! only the `__Host-passgate_console` cookie (HttpOnly, Secure, SameSite=Strict, Path=/), a
//! 256-bit random token stored as its SHA-256. The session acts as the key it was opened
//! with (same [`Principal`], same budgets, same audit actor) until it is idle for
//! [`ConsoleSettings::idle_timeout`], reaches [`ConsoleSettings::absolute_timeout`], is
//! signed out, or its key is revoked.
//!
//! Every write also needs the session's CSRF token (header [`CSRF_HEADER`] on fetch calls,
//! hidden field [`CSRF_FIELD`] on forms): `HMAC-SHA256(derive("console-csrf"), token)`, so a
//! page can be given it again on every load, while the row keeps only its SHA-256 and the
//! comparison is constant-time. A cross-site page has neither the cookie (SameSite=Strict,
//! HttpOnly) nor the token, and a write must also come from this origin (Fetch Metadata,
//! else `Origin` or `Referer`, as for the hosted pages' forms).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::TimeDelta;
use hmac::{Hmac, KeyInit, Mac};
use passgate_store::{
    ApiKeyRepo, ConsoleSession, ConsoleSessionRepo, NewConsoleSession, Sha256Digest,
};
use poem::Request;
use poem::http::Method;
use rand::{TryRng, rngs::SysRng};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::admin::AdminState;
use crate::admin::auth::{Principal, principal_of};
use crate::problem::{AdminError, AdminProblem, Code};
use crate::security::cookies;

/// The session cookie.
pub const COOKIE: &str = "__Host-passgate_console";
/// The header fetch calls carry the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The hidden form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";

/// How long console sessions last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsoleSettings {
    /// A session unused this long ends (default 30 minutes): a laptop left open.
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in however busy (default 12 hours): a stolen
    /// cookie does not live forever, and a day's work needs one sign-in.
    pub absolute_timeout: Duration,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(30 * 60),
            absolute_timeout: Duration::from_secs(12 * 60 * 60),
        }
    }
}

/// `last_seen_at` is written at most this often per session (the idle timeout is then
/// exact to within this much; one write per request would be waste).
const TOUCH_EVERY: TimeDelta = TimeDelta::seconds(60);

fn delta(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX)
}

/// A session just opened: the cookie to set and the page's CSRF token.
#[derive(Debug)]
pub struct Opened {
    /// The `Set-Cookie` value (holds the token: never log it).
    pub set_cookie: SecretString,
    /// The CSRF token for the page.
    pub csrf: String,
}

/// A request's live session and who it acts as.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The key's principal.
    pub principal: Principal,
    /// The CSRF token pages embed for their writes.
    pub csrf: String,
    /// The stored row.
    pub session: ConsoleSession,
}

/// Why a session request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No live session (the reason is audited with the 401).
    Unauthenticated(&'static str),
    /// A write without the session's CSRF token.
    Csrf,
}

fn csrf_of(state: &AdminState, token: &str) -> Option<String> {
    let key = state.keyring().derive("console-csrf");
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).ok()?;
    mac.update(b"passgate/console-csrf/v1/");
    mac.update(token.as_bytes());
    Some(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

/// Opens a session for the key `principal` authenticated with.
pub async fn open(state: &AdminState, principal: &Principal) -> Result<Opened, AdminError> {
    let mut bytes = [0u8; 32];
    SysRng
        .try_fill_bytes(&mut bytes)
        .map_err(|_| AdminError::Random)?;
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let csrf = csrf_of(state, &token).ok_or(AdminError::Random)?;
    let now = state.now();
    let absolute = delta(state.settings().console.absolute_timeout);
    let idle = delta(state.settings().console.idle_timeout);
    // Sessions nobody ended go when someone signs in: the table stays as small as the
    // number of people working.
    let idle_before = now
        .checked_sub_signed(idle)
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
    if let Err(err) = state.store().purge_console_sessions(idle_before, now).await {
        tracing::warn!(target: "passgate::console", error = %err, "old sessions not purged");
    }
    state
        .store()
        .create_console_session(NewConsoleSession {
            id: Sha256Digest::of(token.as_bytes()),
            key_id: principal.key_id,
            csrf_hash: Sha256Digest::of(csrf.as_bytes()),
            created_at: now,
            expires_at: now
                .checked_add_signed(absolute)
                .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC),
        })
        .await?;
    let max_age = state.settings().console.absolute_timeout.as_secs();
    Ok(Opened {
        set_cookie: SecretString::from(cookies::set(COOKIE, &token, Some(max_age))),
        csrf,
    })
}

/// A well-formed cookie value: what [`open`] mints (43 base64url characters).
fn well_formed(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The request's live session, touched (the idle timeout starts again); an expired one
/// is deleted. Does not check CSRF: see [`authorize`].
pub async fn current(state: &AdminState, req: &Request) -> Result<Signed, &'static str> {
    let token = cookies::get(req, COOKIE)
        .filter(|t| well_formed(t))
        .map(SecretString::from)
        .ok_or("no_session")?;
    let id = Sha256Digest::of(token.expose_secret().as_bytes());
    let store = state.store();
    let lookup_failed = |err: passgate_store::StoreError| {
        tracing::error!(target: "passgate::console", error = %err, "session lookup failed");
        "lookup_failed"
    };
    let session = store
        .console_session(&id)
        .await
        .map_err(lookup_failed)?
        .ok_or("unknown_session")?;
    let now = state.now();
    let idle = delta(state.settings().console.idle_timeout);
    if now >= session.expires_at || now.signed_duration_since(session.last_seen_at) >= idle {
        if let Err(err) = store.end_console_session(&id).await {
            tracing::warn!(target: "passgate::console", error = %err, "expired session not deleted");
        }
        return Err("session_expired");
    }
    let key = store
        .api_key(session.key_id)
        .await
        .map_err(lookup_failed)?
        .ok_or("unknown_key")?;
    let principal = principal_of(state, key).await?;
    if now.signed_duration_since(session.last_seen_at) >= TOUCH_EVERY
        && let Err(err) = store.touch_console_session(&id, now).await
    {
        tracing::warn!(target: "passgate::console", error = %err, "session activity not recorded");
    }
    let csrf = csrf_of(state, token.expose_secret()).ok_or("no_csrf")?;
    Ok(Signed {
        principal,
        csrf,
        session,
    })
}

/// Whether `presented` is the session's CSRF token (constant-time on the digests).
pub fn csrf_matches(session: &ConsoleSession, presented: Option<&str>) -> bool {
    let Some(presented) = presented else {
        return false;
    };
    let digest = Sha256Digest::of(presented.as_bytes());
    bool::from(digest.as_bytes().ct_eq(session.csrf_hash.as_bytes()))
}

/// Methods that change nothing (and so need no CSRF token).
pub fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The session's principal for an admin API call: a live session, and on a write the CSRF
/// header. A CSRF refusal is audited here (the 401s are audited by the admin guard).
pub async fn authorize(state: &AdminState, req: &Request) -> Result<Principal, Refusal> {
    let signed = current(state, req)
        .await
        .map_err(Refusal::Unauthenticated)?;
    if is_safe(req.method()) {
        return Ok(signed.principal);
    }
    let presented = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    // The hosted pages' provenance check too (Fetch Metadata, else Origin or Referer):
    // a write from another site is refused even with a stolen token.
    let same_site = req
        .data::<crate::state::AppState>()
        .is_none_or(|app| crate::security::csrf::check_provenance(&app.settings, req).is_ok());
    if same_site && csrf_matches(&signed.session, presented) {
        return Ok(signed.principal);
    }
    audit_csrf_refusal(state, &signed.principal, req.uri().path()).await;
    Err(Refusal::Csrf)
}

/// Audits a write refused for its CSRF token.
pub async fn audit_csrf_refusal(state: &AdminState, principal: &Principal, path: &str) {
    tracing::info!(
        target: passgate_engine::SECURITY_TARGET,
        actor = %principal.actor(),
        "console write without its CSRF token"
    );
    let path: String = path.chars().take(200).collect();
    state
        .audit_denied(
            principal.actor(),
            None,
            "denied:csrf".into(),
            json!({ "path": path, "status": 403 }),
        )
        .await;
}

/// The 403 of a write without the session's CSRF token.
pub fn csrf_problem() -> AdminProblem {
    Code::Forbidden
        .detail("a console write needs the session's X-CSRF-Token header; nothing was changed")
        .into()
}

/// Ends the request's session (sign out). Returns whether there was one.
pub async fn end(state: &AdminState, req: &Request) -> Result<bool, AdminError> {
    let Some(token) = cookies::get(req, COOKIE).filter(|t| well_formed(t)) else {
        return Ok(false);
    };
    let id = Sha256Digest::of(token.as_bytes());
    Ok(state.store().end_console_session(&id).await?)
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie() -> String {
    cookies::clear(COOKIE)
}
