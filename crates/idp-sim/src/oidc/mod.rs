//! A minimal but strict OpenID Connect issuer at `{base_url}/oidc`: discovery, the
//! authorization code flow with PKCE (S256 only), the token endpoint, the JWKS. It refuses
//! what a strict provider refuses, so a relying party's bugs show up in tests.
//!
//! | method | path | what |
//! |---|---|---|
//! | GET | `/oidc/.well-known/openid-configuration` | the discovery document |
//! | GET | `/oidc/authorize` | the sign-in page (`authorize`) |
//! | POST | `/oidc/authorize` | the page's answer: 303 with `code` or `error` |
//! | POST | `/oidc/token` | code → ID token (`token`) |
//! | GET | `/oidc/jwks` | the RS256 and ES256 public keys (`keys`) |
//!
//! Without an `oidc:` section in the seed every `/oidc/…` path answers 404.

mod authorize;
mod keys;
pub mod settings;
mod token;

use serde_json::json;

pub(crate) use keys::SigningKeys;
pub use settings::{IdTokenFault, OidcClient, OidcPerson, OidcSettings};

use crate::state::SimState;
pub(crate) use crate::wire::escape;
use crate::wire::{Input, Reply};

/// Where the issuer is mounted: the issuer identifier is `{base_url}{OIDC_PREFIX}`.
pub const OIDC_PREFIX: &str = "/oidc";

/// The scope values the issuer knows.
const SCOPES: [&str; 3] = ["openid", "email", "profile"];

/// The issuer identifier (no trailing slash).
pub(crate) fn issuer(state: &SimState) -> String {
    format!("{}{OIDC_PREFIX}", state.base_url)
}

/// Handles a request under [`OIDC_PREFIX`]; `path` is the rest of the path.
pub(crate) fn route(state: &SimState, input: &Input, path: &str) -> Reply {
    let (Some(settings), Some(keys)) = (state.config.oidc.as_ref(), state.oidc_keys.as_ref())
    else {
        return not_found();
    };
    let allowed = match path {
        "/.well-known/openid-configuration" | "/jwks" => "GET",
        "/authorize" => "GET, POST",
        "/token" => "POST",
        _ => return not_found(),
    };
    match (input.method.as_str(), path) {
        ("GET", "/.well-known/openid-configuration") => discovery(state, settings),
        ("GET", "/jwks") => Reply::json(200, &keys.jwks()),
        ("GET", "/authorize") => authorize::show(settings, input),
        ("POST", "/authorize") => authorize::submit(state, settings, keys, input),
        ("POST", "/token") => token::token(state, settings, keys, input),
        _ => Reply::json(405, &json!({ "error": "method_not_allowed" }))
            .with_header("allow", allowed),
    }
}

fn not_found() -> Reply {
    Reply::json(404, &json!({ "error": "not_found" }))
}

/// The discovery document (OpenID Connect Discovery 1.0 §3).
fn discovery(state: &SimState, settings: &OidcSettings) -> Reply {
    let issuer = issuer(state);
    let mut claims: Vec<String> = settings::ISSUER_CLAIMS.map(String::from).to_vec();
    for person in &settings.people {
        for name in person.claims.keys() {
            if !claims.contains(name) {
                claims.push(name.clone());
            }
        }
    }
    Reply::json(
        200,
        &json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
            "jwks_uri": format!("{issuer}/jwks"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": settings::ALGORITHMS,
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported":
                ["client_secret_basic", "client_secret_post", "none"],
            "grant_types_supported": ["authorization_code"],
            "scopes_supported": SCOPES,
            "claims_supported": claims,
        }),
    )
}

/// Marks a reply as never to be cached.
fn no_store(reply: Reply) -> Reply {
    reply.with_header("cache-control", "no-store")
}
