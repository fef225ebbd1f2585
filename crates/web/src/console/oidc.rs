//! Signing in through the company's OpenID Connect provider, when configured: authorization
//! code + PKCE (S256), the ID token checked by [`passgate_oidc`], the person's role and
//! tenants read from two claims. The person becomes an OIDC identity (an `api_keys` row
//! with the provider's subject and no usable key), so the session, budgets, revocation and
//! audit are those of a personal key; revoking the identity refuses later sign-ins.
//!
//! Nothing is stored between the redirect and the callback: the browser holds a short-lived
//! `__Host-passgate_oidc` cookie (a random login id, its time and a MAC), and state, nonce
//! and PKCE verifier are HMACs of the login id under `derive("console-oidc")`. The cookie is
//! `SameSite=Lax` because the provider sends the browser back with a top-level cross-site
//! navigation; the session cookie set at the end stays `Strict`, so the callback answers
//! with a same-site page that moves on to the console.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use passgate_oidc::{Identity, LoginRequest, OidcError, RelyingParty};
use passgate_store::{ApiKeyRepo, ApiRole, OidcIdentity, Sha256Digest};
use passgate_tenant::TenantId;
use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{IntoResponse, Request, Response, handler};
use rand::{TryRng, rngs::SysRng};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::html::{self, escape};
use super::sign_in;
use crate::admin::AdminState;
use crate::admin::auth::principal_of;
use crate::security::cookies;
use crate::state::AppState;

/// The cookie that carries one sign-in from the redirect to the callback.
const LOGIN_COOKIE: &str = "__Host-passgate_oidc";
/// How long a person may take at the provider.
const LOGIN_LIFETIME_SECS: i64 = 600;
/// The role claim's value of a platform admin.
pub const PLATFORM_ADMIN_VALUE: &str = "platform-admin";
/// The role claim's value of a product owner (tenant editor).
pub const TENANT_EDITOR_VALUE: &str = "tenant-editor";

/// The console's OIDC sign-in: the provider and how its claims map to Passgate roles.
#[derive(Debug)]
pub struct ConsoleOidc {
    /// The provider.
    pub provider: RelyingParty,
    /// The button text's provider name ("Sign in with …").
    pub display_name: String,
    /// The claim holding the role (`platform-admin` or `tenant-editor`; a string or a list).
    pub role_claim: String,
    /// The claim holding an editor's tenant ids (a list, or a space-separated string).
    pub tenants_claim: String,
}

impl ConsoleOidc {
    /// The role and tenants `identity`'s claims give, or why it gets none.
    pub fn map_claims(&self, identity: &Identity) -> Result<(ApiRole, Vec<TenantId>), String> {
        let values = |claim: &str| -> Vec<String> {
            match identity.claims.get(claim) {
                Some(Value::String(text)) => text.split_whitespace().map(str::to_owned).collect(),
                Some(Value::Array(list)) => list
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                _ => Vec::new(),
            }
        };
        let roles = values(&self.role_claim);
        if roles.iter().any(|r| r == PLATFORM_ADMIN_VALUE) {
            return Ok((ApiRole::PlatformAdmin, Vec::new()));
        }
        if !roles.iter().any(|r| r == TENANT_EDITOR_VALUE) {
            return Err(format!(
                "Your account has no Passgate role (claim \u{201c}{}\u{201d}). Ask a \
                 platform admin to give you one at the identity provider.",
                self.role_claim
            ));
        }
        let tenants: Vec<TenantId> = values(&self.tenants_claim)
            .iter()
            .filter_map(|t| TenantId::parse(t).ok())
            .collect();
        if tenants.is_empty() {
            return Err(format!(
                "Your account edits no app (claim \u{201c}{}\u{201d} is empty). Ask a \
                 platform admin to give you yours at the identity provider.",
                self.tenants_claim
            ));
        }
        Ok((ApiRole::TenantEditor, tenants))
    }
}

fn configured(state: &AdminState) -> Option<Arc<ConsoleOidc>> {
    state.settings().console_oidc.clone()
}

fn mac(state: &AdminState, purpose: &str, login_id: &str) -> String {
    let key = state.keyring().derive("console-oidc");
    let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(&key) {
        Ok(mac) => mac,
        // A 32-byte key always fits HMAC; an empty MAC then matches nothing presented.
        Err(_) => return String::new(),
    };
    mac.update(format!("passgate/console-oidc/v1/{purpose}/{login_id}").as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

fn login_request(state: &AdminState, login_id: &str) -> LoginRequest {
    LoginRequest {
        state: mac(state, "state", login_id),
        nonce: mac(state, "nonce", login_id),
        code_verifier: SecretString::from(mac(state, "pkce", login_id)),
    }
}

/// The login id of a genuine, unexpired login cookie.
fn login_id(state: &AdminState, req: &Request) -> Option<String> {
    let value = cookies::get(req, LOGIN_COOKIE)?;
    let mut parts = value.split('.');
    let (Some(id), Some(issued), Some(presented), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let expected = mac(state, "cookie", &format!("{id}.{issued}"));
    if expected.is_empty() || !bool::from(expected.as_bytes().ct_eq(presented.as_bytes())) {
        return None;
    }
    let age = state.now().timestamp() - issued.parse::<i64>().ok()?;
    (0..=LOGIN_LIFETIME_SECS)
        .contains(&age)
        .then(|| id.to_owned())
}

fn login_cookie(value: &str, max_age: i64) -> String {
    format!("{LOGIN_COOKIE}={value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={max_age}")
}

async fn refuse(
    app: &AppState,
    state: &AdminState,
    req: &Request,
    status: StatusCode,
    reason: &str,
    message: &str,
) -> Response {
    tracing::info!(target: passgate_engine::SECURITY_TARGET, reason, "console OIDC sign-in refused");
    state
        .audit_denied(
            "anonymous".into(),
            None,
            format!("denied:oidc_{reason}"),
            json!({ "via": "oidc", "status": status.as_u16() }),
        )
        .await;
    let mut resp = sign_in::page(app, state, req, status, Some(message));
    if let Ok(value) = poem::http::HeaderValue::from_str(&login_cookie("", 0)) {
        resp.headers_mut()
            .append(poem::http::header::SET_COOKIE, value);
    }
    resp
}

/// `GET /console/oidc/start`: to the provider's sign-in, with a fresh login cookie.
#[handler]
pub async fn start(
    req: &Request,
    Data(app): Data<&AppState>,
    Data(state): Data<&AdminState>,
) -> Response {
    let Some(oidc) = configured(state) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut bytes = [0u8; 32];
    if SysRng.try_fill_bytes(&mut bytes).is_err() {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let id = URL_SAFE_NO_PAD.encode(bytes);
    let issued = state.now().timestamp();
    let cookie_mac = mac(state, "cookie", &format!("{id}.{issued}"));
    let url = match oidc
        .provider
        .authorization_url(&login_request(state, &id))
        .await
    {
        Ok(url) => url,
        Err(err) => {
            tracing::warn!(target: "passgate::console", error = %err, "OIDC provider unusable");
            return sign_in::page(
                app,
                state,
                req,
                StatusCode::SERVICE_UNAVAILABLE,
                Some(&format!(
                    "{} cannot be reached just now. Try again in a minute, or sign in with \
                     your admin key.",
                    oidc.display_name
                )),
            );
        }
    };
    crate::pages::see_other(
        &url,
        vec![login_cookie(
            &format!("{id}.{issued}.{cookie_mac}"),
            LOGIN_LIFETIME_SECS,
        )],
    )
}

/// The callback's query: a code and our state, or the provider's error.
#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /console/oidc/callback`: the code → a checked identity → a console session.
#[handler]
pub async fn callback(
    req: &Request,
    Query(query): Query<CallbackQuery>,
    Data(app): Data<&AppState>,
    Data(state): Data<&AdminState>,
) -> Response {
    let Some(oidc) = configured(state) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(id) = login_id(state, req) else {
        return refuse(
            app,
            state,
            req,
            StatusCode::BAD_REQUEST,
            "no_login",
            "This sign-in expired or was started in another browser. Start again.",
        )
        .await;
    };
    let login = login_request(state, &id);
    let state_matches = query
        .state
        .as_deref()
        .is_some_and(|s| bool::from(s.as_bytes().ct_eq(login.state.as_bytes())));
    if !state_matches {
        return refuse(
            app,
            state,
            req,
            StatusCode::BAD_REQUEST,
            "state_mismatch",
            "This sign-in did not start here. Start again.",
        )
        .await;
    }
    if let Some(error) = &query.error {
        let message = if error == "access_denied" {
            "Sign-in was cancelled at the identity provider.".to_owned()
        } else {
            format!(
                "{} refused the sign-in ({}).",
                oidc.display_name,
                error.chars().take(64).collect::<String>()
            )
        };
        return refuse(
            app,
            state,
            req,
            StatusCode::UNAUTHORIZED,
            "provider_error",
            &message,
        )
        .await;
    }
    let Some(code) = query
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 2048)
    else {
        return refuse(
            app,
            state,
            req,
            StatusCode::BAD_REQUEST,
            "no_code",
            "The identity provider sent no sign-in code. Start again.",
        )
        .await;
    };
    let identity = match oidc.provider.sign_in(code, &login, state.now()).await {
        Ok(identity) => identity,
        Err(err) => {
            tracing::warn!(target: "passgate::console", error = %err, "OIDC sign-in failed");
            let (status, reason) = match err {
                OidcError::Unreachable(_) | OidcError::Config(_) => {
                    (StatusCode::SERVICE_UNAVAILABLE, "unreachable")
                }
                OidcError::TokenRefused { .. } => (StatusCode::UNAUTHORIZED, "code_refused"),
                OidcError::BadResponse(_) | OidcError::InvalidIdToken(_) => {
                    (StatusCode::UNAUTHORIZED, "invalid_id_token")
                }
            };
            return refuse(
                app,
                state,
                req,
                status,
                reason,
                &format!(
                    "The answer of {} could not be verified, so you are not signed in. Start \
                     again; if it keeps failing, tell a platform admin.",
                    oidc.display_name
                ),
            )
            .await;
        }
    };
    let (role, tenants) = match oidc.map_claims(&identity) {
        Ok(mapped) => mapped,
        Err(message) => {
            return refuse(app, state, req, StatusCode::FORBIDDEN, "no_role", &message).await;
        }
    };
    open_session(app, state, req, &oidc, identity, role, tenants).await
}

async fn open_session(
    app: &AppState,
    state: &AdminState,
    req: &Request,
    oidc: &ConsoleOidc,
    identity: Identity,
    role: ApiRole,
    tenants: Vec<TenantId>,
) -> Response {
    let mut unusable = [0u8; 32];
    if SysRng.try_fill_bytes(&mut unusable).is_err() {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let label: String = identity
        .name
        .clone()
        .or_else(|| identity.email.clone())
        .unwrap_or_else(|| identity.subject.clone())
        .chars()
        .take(100)
        .collect();
    let subject = format!("{} {}", oidc.provider.config().issuer, identity.subject);
    let stored = match state
        .store()
        .sign_in_oidc_identity(OidcIdentity {
            subject,
            unusable_key_hash: Sha256Digest::of(&unusable),
            prefix: "oidc".into(),
            role,
            tenants,
            label,
            now: state.now(),
        })
        .await
    {
        Ok(stored) => stored,
        Err(err) => {
            tracing::error!(target: "passgate::console", error = %err, "OIDC identity not stored");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let principal = match principal_of(state, stored).await {
        Ok(principal) => principal,
        Err(reason) => {
            return refuse(
                app,
                state,
                req,
                StatusCode::FORBIDDEN,
                reason,
                "Your access to the console was revoked. Ask a platform admin.",
            )
            .await;
        }
    };
    let details = json!({ "via": "oidc", "issuer": oidc.provider.config().issuer });
    let opened = match sign_in::open_audited(state, &principal, details).await {
        Ok(opened) => opened,
        Err(unavailable) => return unavailable,
    };
    onward(req, opened.set_cookie)
}

/// A same-site page that moves on to the console: the browser sends the new `Strict`
/// session cookie only on a navigation this site starts.
fn onward(req: &Request, session_cookie: SecretString) -> Response {
    let nonce = html::nonce_of(req);
    let home = format!("{}/", super::BASE);
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"0;url={home}\">\
         <title>Signed in · Passgate console</title></head><body><main>\
         <h1>Signed in</h1><p><a href=\"{home}\">Continue to the console</a></p></main>\
         </body></html>",
        home = escape(&home),
    );
    let mut resp = Response::builder()
        .status(StatusCode::OK)
        .content_type("text/html; charset=utf-8")
        .header("cache-control", "no-store")
        .header("content-security-policy", html::csp(&nonce))
        .body(body);
    for cookie in [
        session_cookie.expose_secret().to_owned(),
        login_cookie("", 0),
    ] {
        if let Ok(value) = poem::http::HeaderValue::from_str(&cookie) {
            resp.headers_mut()
                .append(poem::http::header::SET_COOKIE, value);
        }
    }
    resp
}
