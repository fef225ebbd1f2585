//! `POST /oidc/token`: the authorization code grant (RFC 6749 §4.1.3 with RFC 7636's PKCE),
//! client authentication (`client_secret_basic`, `client_secret_post`, `none`) and the ID
//! token (compact JWS, RS256 or ES256 as the client registered, faults applied).
//!
//! A code is single use and burnt as soon as an authenticated client presents it, before any
//! other check: a replay, even in parallel, or a retry after a wrong verifier fails.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::keys::b64url;
use super::settings::{IdTokenFault, OidcClient, OidcSettings};
use super::{SigningKeys, issuer, no_store};
use crate::state::{OidcCode, SimState};
use crate::wire::{Input, Reply, auth_error};

/// Lifetime of the ID token (seconds).
const ID_TOKEN_TTL_SECS: i64 = 300;

/// Lifetime announced for the access token (seconds).
const ACCESS_TOKEN_TTL_SECS: i64 = 3600;

/// An OAuth error answer, not cached; 401s carry `WWW-Authenticate: Basic`.
fn error(status: u16, code: &str, description: &str) -> Reply {
    let reply = no_store(auth_error(status, code, description));
    if status == 401 {
        reply.with_header("www-authenticate", "Basic realm=\"oidc\"")
    } else {
        reply
    }
}

/// Handles one token request.
pub(crate) fn token(
    state: &SimState,
    settings: &OidcSettings,
    keys: &SigningKeys,
    input: &Input,
) -> Reply {
    let mime = input.content_type.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return error(
            400,
            "invalid_request",
            "the body must be application/x-www-form-urlencoded",
        );
    }
    match input.param("grant_type").as_deref() {
        Some("authorization_code") => {}
        None => return error(400, "invalid_request", "grant_type is missing"),
        Some(_) => {
            return error(
                400,
                "unsupported_grant_type",
                "only authorization_code is supported",
            );
        }
    }
    let client = match authenticate(settings, input) {
        Ok(client) => client,
        Err(reply) => return reply,
    };
    let (Some(code), Some(redirect_uri), Some(verifier)) = (
        input.param("code").filter(|c| !c.is_empty()),
        input.param("redirect_uri"),
        input.param("code_verifier"),
    ) else {
        return error(
            400,
            "invalid_request",
            "code, redirect_uri and code_verifier are required",
        );
    };
    let now = state.now();
    let grant = match redeem(state, client, &code, &redirect_uri, &verifier, now) {
        Ok(grant) => grant,
        Err(description) => return error(400, "invalid_grant", description),
    };
    let fault = state.world().oidc_fault;
    let (Some(id_token), Some(access_token)) = (
        id_token(state, settings, keys, client, &grant, now, fault),
        keys.random_token(32),
    ) else {
        return error(
            500,
            "server_error",
            "the simulator could not sign the ID token",
        );
    };
    let reply = Reply::json(
        200,
        &json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_TTL_SECS,
            "scope": granted_scope(&grant.scope),
            "id_token": id_token,
        }),
    );
    no_store(reply).with_header("pragma", "no-cache")
}

/// The client the request authenticates as, or the error answer.
fn authenticate<'a>(settings: &'a OidcSettings, input: &Input) -> Result<&'a OidcClient, Reply> {
    let basic = match input.authorization.as_deref() {
        None => None,
        Some(header) => Some(basic_credentials(header).ok_or_else(|| {
            error(
                401,
                "invalid_client",
                "the Authorization header is not valid HTTP Basic",
            )
        })?),
    };
    let body_id = input.param("client_id");
    let body_secret = input.param("client_secret");
    if basic.is_some() && body_secret.is_some() {
        return Err(error(
            400,
            "invalid_request",
            "use one client authentication method, not Basic and client_secret together",
        ));
    }
    let (client_id, secret) = match (basic, body_id) {
        (Some((id, _)), Some(body_id)) if id != body_id => {
            return Err(error(
                400,
                "invalid_request",
                "client_id differs from the Basic credentials",
            ));
        }
        (Some((id, secret)), _) => (id, Some(secret)),
        (None, Some(id)) => (id, body_secret),
        (None, None) => {
            return Err(error(401, "invalid_client", "no client authentication"));
        }
    };
    let client = settings
        .clients
        .iter()
        .find(|c| c.client_id == client_id)
        .ok_or_else(|| error(401, "invalid_client", "unknown client"))?;
    match (&client.client_secret, secret) {
        (Some(expected), Some(given)) if constant_time_eq(expected, &given) => Ok(client),
        (Some(_), _) => Err(error(401, "invalid_client", "client authentication failed")),
        (None, None) => Ok(client),
        (None, Some(_)) => Err(error(
            401,
            "invalid_client",
            "a public client has no secret (token endpoint auth method none)",
        )),
    }
}

/// `Basic base64(urlencode(id):urlencode(secret))` decoded (RFC 6749 §2.3.1).
fn basic_credentials(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let form_decode = |text: &str| {
        let spaced = text.replace('+', " ");
        percent_encoding::percent_decode_str(&spaced)
            .decode_utf8()
            .ok()
            .map(|s| s.into_owned())
    };
    Some((form_decode(id)?, form_decode(secret)?))
}

/// Compares secrets without an early exit (digests of equal length).
fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// Burns the code, then checks it belongs to this client, is fresh, was issued for this
/// redirect URI and that the verifier matches its challenge.
fn redeem(
    state: &SimState,
    client: &OidcClient,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
    now: DateTime<Utc>,
) -> Result<OidcCode, &'static str> {
    let grant = {
        let mut world = state.world();
        let stored = world
            .oidc_codes
            .get_mut(code)
            .ok_or("unknown authorization code")?;
        if stored.used {
            return Err("the authorization code was already used");
        }
        stored.used = true;
        stored.clone()
    };
    if grant.client_id != client.client_id {
        return Err("the authorization code was issued to another client");
    }
    if grant.expires_at <= now {
        return Err("the authorization code has expired");
    }
    if grant.redirect_uri != redirect_uri {
        return Err("redirect_uri differs from the authorization request's");
    }
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
    if !(43..=128).contains(&verifier.len()) || !verifier.bytes().all(unreserved) {
        return Err("code_verifier must be 43 to 128 unreserved characters");
    }
    if b64url(&Sha256::digest(verifier.as_bytes())) != grant.code_challenge {
        return Err("code_verifier does not match the code_challenge");
    }
    Ok(grant)
}

/// The requested scope values the issuer knows, in request order.
fn granted_scope(scope: &str) -> String {
    scope
        .split(' ')
        .filter(|s| super::SCOPES.contains(s))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The signed ID token for a redeemed code, with `fault` applied; `None` if signing fails.
fn id_token(
    state: &SimState,
    settings: &OidcSettings,
    keys: &SigningKeys,
    client: &OidcClient,
    grant: &OidcCode,
    now: DateTime<Utc>,
    fault: Option<IdTokenFault>,
) -> Option<String> {
    let person = settings
        .people
        .iter()
        .find(|p| p.subject == grant.subject)?;
    let scopes: Vec<&str> = grant.scope.split(' ').collect();
    // Extra claims first: the issuer's own (validated as not among them) always win.
    let mut claims: Map<String, Value> = person.claims.clone();
    let issuer = issuer(state);
    let (iat, exp) = match fault {
        Some(IdTokenFault::Expired) => (now - Duration::seconds(900), now - Duration::seconds(600)),
        _ => (now, now + Duration::seconds(ID_TOKEN_TTL_SECS)),
    };
    let mut set = |name: &str, value: Value| claims.insert(name.to_owned(), value);
    set(
        "iss",
        json!(match fault {
            Some(IdTokenFault::WrongIssuer) => format!("{issuer}/evil"),
            _ => issuer,
        }),
    );
    set("sub", json!(person.subject));
    set(
        "aud",
        json!(match fault {
            Some(IdTokenFault::WrongAudience) => "another-client",
            _ => client.client_id.as_str(),
        }),
    );
    set("azp", json!(client.client_id));
    set("iat", json!(iat.timestamp()));
    set("exp", json!(exp.timestamp()));
    set("auth_time", json!(grant.auth_time.timestamp()));
    match (fault, &grant.nonce) {
        (Some(IdTokenFault::WrongNonce), _) => set("nonce", json!("not-the-nonce")),
        (_, Some(nonce)) => set("nonce", json!(nonce)),
        (_, None) => None,
    };
    // OIDC Core §5.4: email claims for the `email` scope, name for `profile`.
    if scopes.contains(&"email") {
        set("email", json!(person.email));
        set("email_verified", json!(true));
    }
    if scopes.contains(&"profile") {
        set("name", json!(person.name));
    }
    let alg = client.alg();
    let header = match fault {
        Some(IdTokenFault::AlgNone) => json!({ "alg": "none", "typ": "JWT" }),
        Some(IdTokenFault::UnknownKid) => {
            json!({ "alg": alg, "kid": "rotated-away", "typ": "JWT" })
        }
        _ => json!({ "alg": alg, "kid": keys.kid(alg), "typ": "JWT" }),
    };
    let signing_input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(Value::Object(claims).to_string().as_bytes())
    );
    let signature = match fault {
        Some(IdTokenFault::AlgNone) => Vec::new(),
        Some(IdTokenFault::BadSignature) => {
            let mut signature = keys.sign(alg, signing_input.as_bytes())?;
            if let Some(byte) = signature.first_mut() {
                *byte ^= 0x01;
            }
            signature
        }
        _ => keys.sign(alg, signing_input.as_bytes())?,
    };
    Some(format!("{signing_input}.{}", b64url(&signature)))
}
