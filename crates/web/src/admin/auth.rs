//! Who is calling: bearer API keys (`pgk_…`), looked up by their SHA-256, and what each role
//! may do. A key is 256 random bits, shown once when minted and stored only as its hash; the
//! lookup by hash is the comparison (no key bytes are compared with early exit, and the hash
//! of a guess reveals nothing about a stored key). A revoked key authenticates nothing.
//!
//! Every 401 is audited by the admin middleware (with the reason the checker found); every
//! 403 is audited here, where the principal and the tenant are known. An authenticated
//! request then spends its key's budget (`limits`): over it, 429 with `Retry-After`.

use std::fmt;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::TimeDelta;
use passgate_store::{
    ApiKey, ApiKeyId, ApiKeyRepo, ApiRole, NewApiKey, Sha256Digest, Store, Timestamp,
};
use passgate_tenant::TenantId;
use poem::http::header::AUTHORIZATION;
use poem::{IntoResponse, Request, RequestBody};
use poem_openapi::registry::{MetaSecurityScheme, Registry};
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ExtractParamOptions, SecurityScheme, auth::Bearer,
};
use rand::{TryRng, rngs::SysRng};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::state::AdminState;
use crate::problem::{AdminError, AdminProblem, Code, Problem};

/// Every key starts with this, so secret scanners and humans recognise it.
pub const KEY_PREFIX: &str = "pgk_";

/// How many characters of a key (after [`KEY_PREFIX`]) are kept to recognise it in lists.
const SHOWN_CHARS: usize = 6;

/// `last_used_at` is written at most this often per key (one write per request is waste).
const TOUCH_EVERY: TimeDelta = TimeDelta::seconds(60);

/// The audit action of a refused authentication or authorization.
pub const ACTION_DENIED: &str = "admin.access_denied";

/// A freshly minted key: the secret (shown once) and the row stored for it.
pub struct MintedKey {
    /// The full key, `pgk_` + 43 base64url characters (256 bits).
    pub secret: SecretString,
    /// What the store keeps: hash, display prefix, role, scope, label.
    pub record: NewApiKey,
}

impl fmt::Debug for MintedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MintedKey")
            .field("secret", &"[redacted]")
            .field("prefix", &self.record.prefix)
            .field("role", &self.record.role)
            .finish_non_exhaustive()
    }
}

/// The SHA-256 under which a presented key is stored and looked up.
pub fn hash_key(key: &str) -> Sha256Digest {
    Sha256Digest::of(key.as_bytes())
}

/// Mints a key for `role` (`tenants` is the editor scope; ignored for platform admins).
pub fn mint_key(
    role: ApiRole,
    tenants: Vec<TenantId>,
    label: String,
    now: Timestamp,
) -> Result<MintedKey, AdminError> {
    let mut bytes = [0u8; 32];
    SysRng
        .try_fill_bytes(&mut bytes)
        .map_err(|_| AdminError::Random)?;
    let secret = format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let prefix: String = secret
        .chars()
        .take(KEY_PREFIX.len() + SHOWN_CHARS)
        .collect();
    let tenants = match role {
        ApiRole::PlatformAdmin => Vec::new(),
        ApiRole::TenantEditor => tenants,
    };
    let record = NewApiKey {
        key_hash: hash_key(&secret),
        prefix,
        role,
        tenants,
        label,
        owner_email_hash: None,
        created_at: now,
    };
    Ok(MintedKey {
        secret: SecretString::from(secret),
        record,
    })
}

/// Mints and stores a key; returns its id and the secret (to show once). Used by the API
/// and by `passgate admin create-key`.
pub async fn create_key(
    store: &Store,
    role: ApiRole,
    tenants: Vec<TenantId>,
    label: String,
    now: Timestamp,
) -> Result<(ApiKeyId, MintedKey), AdminError> {
    create_key_with_email(store, role, tenants, label, None, now).await
}

/// [`create_key`] for a holder with a registered address (already normalised: lowercase),
/// to which the key may send test emails. Only the address's SHA-256 is stored.
pub async fn create_key_with_email(
    store: &Store,
    role: ApiRole,
    tenants: Vec<TenantId>,
    label: String,
    email: Option<&str>,
    now: Timestamp,
) -> Result<(ApiKeyId, MintedKey), AdminError> {
    let mut minted = mint_key(role, tenants, label, now)?;
    minted.record.owner_email_hash = email.map(owner_email_hash);
    let id = store.create_api_key(minted.record.clone()).await?;
    Ok((id, minted))
}

/// How a key holder's address (lowercase) is stored and compared.
pub fn owner_email_hash(email: &str) -> Sha256Digest {
    Sha256Digest::of(email.as_bytes())
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The key's row id.
    pub key_id: ApiKeyId,
    /// The key's display prefix (`pgk_abcdef`).
    pub prefix: String,
    /// The key's label.
    pub label: String,
    /// Its role.
    pub role: ApiRole,
    /// Tenants a `tenant-editor` may touch.
    pub tenants: Vec<TenantId>,
    /// SHA-256 of the holder's registered address, if any: test emails may go there.
    pub owner_email_hash: Option<Sha256Digest>,
    /// `issuer sub` of a person the company's OIDC provider signed in (no key then).
    pub oidc_subject: Option<String>,
}

impl Principal {
    /// How the caller appears in audit events and version authorship: the key's prefix
    /// and label, or the OIDC subject and label of a person signed in through the provider.
    pub fn actor(&self) -> String {
        match &self.oidc_subject {
            Some(subject) => format!("oidc:{subject} ({})", self.label),
            None => format!("key:{} ({})", self.prefix, self.label),
        }
    }

    /// Whether the caller may read and edit `tenant`'s configuration.
    pub fn may_edit(&self, tenant: &str) -> bool {
        match self.role {
            ApiRole::PlatformAdmin => true,
            ApiRole::TenantEditor => self.tenants.iter().any(|t| t.as_str() == tenant),
        }
    }
}

/// Bearer API key (`Authorization: Bearer pgk_…`). Create the first one with
/// `passgate admin create-key --role platform-admin`.
#[derive(SecurityScheme)]
#[oai(
    rename = "ApiKey",
    ty = "bearer",
    bearer_format = "pgk_…",
    checker = "check_key"
)]
struct KeyAuth(Principal);

/// The name of the console session's security scheme in the spec.
const SESSION_SCHEME: &str = "ConsoleSession";

/// Who is calling, by one of two credentials that end in the same [`Principal`] (so every
/// operation checks role and scope once, whoever calls): a bearer API key, or the
/// `/console` session cookie of a person who signed in with one, plus the session's
/// `X-CSRF-Token` header on every write ([`crate::console::session`]). A request with an
/// `Authorization` header, or without the session cookie, is judged by its key.
pub struct AdminAuth(pub Principal);

impl fmt::Debug for AdminAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AdminAuth").field(&self.0).finish()
    }
}

impl<'a> ApiExtractor<'a> for AdminAuth {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        <KeyAuth as ApiExtractor>::register(registry);
        registry.create_security_scheme(
            SESSION_SCHEME,
            MetaSecurityScheme {
                ty: "apiKey",
                description: Some(
                    "The `/console` session cookie (set by signing in there with an API key); \
                     writes also need the session's `X-CSRF-Token` header.",
                ),
                name: Some(crate::console::session::COOKIE),
                key_in: Some("cookie"),
                scheme: None,
                bearer_format: None,
                flows: None,
                openid_connect_url: None,
            },
        );
    }

    fn security_schemes() -> Vec<&'static str> {
        let mut schemes = <KeyAuth as ApiExtractor>::security_schemes();
        schemes.push(SESSION_SCHEME);
        schemes
    }

    async fn from_request(
        req: &'a Request,
        body: &mut RequestBody,
        param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let by_key = req.headers().contains_key(AUTHORIZATION)
            || crate::security::cookies::get(req, crate::console::session::COOKIE).is_none();
        if by_key {
            let KeyAuth(principal) = KeyAuth::from_request(req, body, param_opts).await?;
            return Ok(Self(principal));
        }
        check_session(req).await.map(Self)
    }
}

/// Why authentication failed, left in the request by the checker for the 401 audit event.
#[derive(Debug, Clone, Default)]
pub(crate) struct AuthNote(pub(crate) Arc<Mutex<Option<&'static str>>>);

impl AuthNote {
    pub(crate) fn set(&self, reason: &'static str) {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(reason);
    }

    pub(crate) fn get(&self) -> Option<&'static str> {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The request's note for the 401 audit, and the admin state (a 401 without it).
fn note_and_state(req: &Request) -> poem::Result<(AuthNote, &AdminState)> {
    let note = req
        .extensions()
        .get::<AuthNote>()
        .cloned()
        .unwrap_or_default();
    match req.data::<AdminState>() {
        Some(state) => Ok((note, state)),
        None => {
            note.set("no_state");
            Err(unauthorized())
        }
    }
}

fn unauthorized() -> poem::Error {
    poem::Error::from_status(poem::http::StatusCode::UNAUTHORIZED)
}

async fn check_key(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    let (note, state) = note_and_state(req)?;
    let key = SecretString::from(bearer.token);
    match authenticate(state, &key).await {
        Ok(principal) => admit(req, state, principal).await,
        Err(reason) => {
            note.set(reason);
            Err(unauthorized())
        }
    }
}

/// The console session's checker: the cookie's session, live and opened with a live key;
/// on a write, the session's CSRF token too (403 without it, nothing changes).
async fn check_session(req: &Request) -> poem::Result<Principal> {
    let (note, state) = note_and_state(req)?;
    let principal = crate::console::session::authorize(state, req)
        .await
        .map_err(|refusal| match refusal {
            crate::console::session::Refusal::Unauthenticated(reason) => {
                note.set(reason);
                unauthorized()
            }
            crate::console::session::Refusal::Csrf => {
                poem::Error::from_response(crate::console::session::csrf_problem().into_response())
            }
        })?;
    admit(req, state, principal).await
}

/// What every authenticated request goes through, however it authenticated: it spends the
/// key's budget (429 with `Retry-After`) and a body with a repeated JSON key is refused.
async fn admit(req: &Request, state: &AdminState, principal: Principal) -> poem::Result<Principal> {
    let expensive = super::limits::is_expensive(req.method(), req.uri().path());
    super::limits::charge(state, principal.key_id, expensive)
        .await
        .map_err(|problem| poem::Error::from_response(problem.into_response()))?;
    if req
        .extensions()
        .get::<super::guard::RepeatedJsonKey>()
        .is_some()
    {
        let problem = Problem::new(Code::DuplicateField);
        return Err(poem::Error::from_response(problem.into_response()));
    }
    Ok(principal)
}

/// Resolves a presented key to its principal, or the reason it is refused.
pub(crate) async fn authenticate(
    state: &AdminState,
    key: &SecretString,
) -> Result<Principal, &'static str> {
    let key = key.expose_secret();
    if !key.starts_with(KEY_PREFIX) || key.len() > 128 {
        return Err("malformed_key");
    }
    let stored = match state.store().api_key_by_hash(&hash_key(key)).await {
        Ok(Some(stored)) => stored,
        Ok(None) => return Err("unknown_key"),
        Err(err) => {
            tracing::error!(target: "passgate::admin", error = %err, "API key lookup failed");
            return Err("lookup_failed");
        }
    };
    // A person's OIDC identity holds no key anyone was given; never accept one as a key.
    if stored.oidc_subject.is_some() {
        return Err("unknown_key");
    }
    principal_of(state, stored).await
}

/// The principal of a stored key (refused when revoked), recording its use.
pub(crate) async fn principal_of(
    state: &AdminState,
    stored: ApiKey,
) -> Result<Principal, &'static str> {
    if stored.revoked_at.is_some() {
        return Err("revoked_key");
    }
    let now = state.now();
    if stored
        .last_used_at
        .is_none_or(|last| now.signed_duration_since(last) >= TOUCH_EVERY)
        && let Err(err) = state.store().touch_api_key(stored.id, now).await
    {
        tracing::warn!(target: "passgate::admin", error = %err, "last_used_at not recorded");
    }
    Ok(Principal {
        key_id: stored.id,
        prefix: stored.prefix,
        label: stored.label,
        role: stored.role,
        tenants: stored.tenants,
        owner_email_hash: stored.owner_email_hash,
        oidc_subject: stored.oidc_subject,
    })
}

/// Audits a refusal and returns the 403 to answer with.
async fn deny(
    state: &AdminState,
    principal: &Principal,
    tenant: Option<&str>,
    operation: &str,
) -> AdminProblem {
    let tenant_id = tenant.and_then(|t| TenantId::parse(t).ok());
    tracing::info!(
        target: passgate_engine::SECURITY_TARGET,
        actor = %principal.actor(),
        tenant = tenant_id.as_ref().map(TenantId::as_str),
        operation,
        "admin access denied"
    );
    state
        .audit_denied(
            principal.actor(),
            tenant_id,
            "denied:forbidden".into(),
            json!({ "operation": operation, "status": 403 }),
        )
        .await;
    AdminProblem::forbidden()
}

/// Allows platform admins only.
pub async fn require_platform_admin(
    state: &AdminState,
    principal: &Principal,
    operation: &str,
) -> Result<(), AdminProblem> {
    match principal.role {
        ApiRole::PlatformAdmin => Ok(()),
        ApiRole::TenantEditor => Err(deny(state, principal, None, operation).await),
    }
}

/// Allows platform admins and editors whose scope names `tenant`; returns the parsed id.
/// A tenant outside the caller's scope is 403 whether or not it exists (no probing); an
/// in-scope id that does not parse is 404.
pub async fn require_tenant(
    state: &AdminState,
    principal: &Principal,
    tenant: &str,
    operation: &str,
) -> Result<TenantId, AdminProblem> {
    if !principal.may_edit(tenant) {
        return Err(deny(state, principal, Some(tenant), operation).await);
    }
    TenantId::parse(tenant).map_err(|_| AdminProblem::not_found("tenant"))
}
