//! The OpenID Connect issuer at `/oidc`: discovery, the authorization code flow with PKCE,
//! client authentication, ID tokens verified against the published JWKS, and the refusals
//! and ID-token faults a relying party must be tested against.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code fails loudly

use crate::support;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use passgate_idp_sim::{IdTokenFault, OidcClient, OidcPerson, OidcSettings, SimConfig, SimHandle};
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents, UnparsedPublicKey,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::{header, http, json_call, url_encode};

/// A confidential client (RS256 by default) and its redirect URI.
const CONSOLE: &str = "console";
const CONSOLE_REDIRECT: &str = "https://console.example.com/oidc/callback";
/// Has `:`, `+`, `/` and a non-ASCII letter: Basic needs them form-url-encoded.
const CONSOLE_SECRET: &str = "s3cr:t+/ü";
/// A public ES256 client whose redirect URI already has a query.
const SPA: &str = "spa";
const SPA_REDIRECT: &str = "http://127.0.0.1:9/cb?from=sim";
/// A state with characters that need encoding; it must come back exactly.
const STATE: &str = "st a&te=/ü+%";
const NONCE: &str = "n-0S6_WzA2Mj";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-and.more~chars";

fn settings() -> OidcSettings {
    let mut claims = serde_json::Map::new();
    claims.insert("passgate_role".into(), json!("tenant-editor"));
    claims.insert("passgate_tenants".into(), json!(["acme"]));
    OidcSettings {
        clients: vec![
            OidcClient {
                client_id: CONSOLE.into(),
                client_secret: Some(CONSOLE_SECRET.into()),
                redirect_uris: vec![CONSOLE_REDIRECT.into()],
                id_token_signed_response_alg: None,
            },
            OidcClient {
                client_id: SPA.into(),
                client_secret: None,
                redirect_uris: vec![SPA_REDIRECT.into()],
                id_token_signed_response_alg: Some("ES256".into()),
            },
        ],
        people: vec![
            OidcPerson {
                subject: "ada-1".into(),
                email: "ada@example.com".into(),
                name: "Ada <Lovelace>".into(),
                claims,
            },
            OidcPerson {
                subject: "grace-2".into(),
                email: "grace@example.com".into(),
                name: "Grace Hopper".into(),
                claims: serde_json::Map::new(),
            },
        ],
    }
}

async fn sim() -> SimHandle {
    passgate_idp_sim::start(SimConfig {
        oidc: Some(settings()),
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A valid authorization request for `client`, as query pairs.
fn request(client: &str, redirect_uri: &str) -> Pairs {
    [
        ("response_type", "code"),
        ("client_id", client),
        ("redirect_uri", redirect_uri),
        ("scope", "openid email profile"),
        ("state", STATE),
        ("nonce", NONCE),
        ("code_challenge", &challenge(VERIFIER)),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

fn with(mut pairs: Vec<(String, String)>, key: &str, value: Option<&str>) -> Vec<(String, String)> {
    pairs.retain(|(k, _)| k != key);
    if let Some(value) = value {
        pairs.push((key.into(), value.into()));
    }
    pairs
}

fn encode(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Form or query parameters, in order.
type Pairs = Vec<(String, String)>;

type Answer = (u16, Vec<(String, String)>, String);

async fn get_authorize(sim: &SimHandle, pairs: &[(String, String)]) -> Answer {
    let path = format!("/oidc/authorize?{}", encode(pairs));
    http(sim.addr, "GET", &path, "", &[], "").await
}

async fn post_form(
    sim: &SimHandle,
    path: &str,
    pairs: &[(String, String)],
    headers: &[(&str, &str)],
) -> Answer {
    let form = encode(pairs);
    http(
        sim.addr,
        "POST",
        path,
        "application/x-www-form-urlencoded",
        headers,
        &form,
    )
    .await
}

/// Submits the sign-in page for `subject` (or cancels when `None`).
async fn sign_in(sim: &SimHandle, pairs: &[(String, String)], subject: Option<&str>) -> Answer {
    let mut form = pairs.to_vec();
    match subject {
        Some(subject) => {
            form.push(("subject".into(), subject.into()));
            form.push(("action".into(), "sign_in".into()));
        }
        None => form.push(("action".into(), "cancel".into())),
    }
    post_form(sim, "/oidc/authorize", &form, &[]).await
}

/// The query of a 303's `Location`, after checking it goes to `redirect_uri`.
fn redirected(answer: &Answer, redirect_uri: &str) -> Vec<(String, String)> {
    assert_eq!(answer.0, 303, "{answer:?}");
    let location = header(&answer.1, "location").unwrap();
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    assert!(
        location.starts_with(&format!("{redirect_uri}{separator}")),
        "{location}"
    );
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

fn param<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The authorization code for `subject`, through the page.
async fn code_for(sim: &SimHandle, pairs: &[(String, String)], subject: &str) -> String {
    let redirect_uri = param(pairs, "redirect_uri").unwrap().to_owned();
    let query = redirected(&sign_in(sim, pairs, Some(subject)).await, &redirect_uri);
    assert_eq!(param(&query, "state"), Some(STATE));
    param(&query, "code").unwrap().to_owned()
}

fn basic(id: &str, secret: &str) -> String {
    let credentials = format!("{}:{}", url_encode(id), url_encode(secret));
    format!("Basic {}", STANDARD.encode(credentials))
}

/// Redeems a code as the console (Basic auth).
async fn redeem(
    sim: &SimHandle,
    code: &str,
    verifier: &str,
    redirect_uri: &str,
) -> (u16, Vec<(String, String)>, Value) {
    let auth = basic(CONSOLE, CONSOLE_SECRET);
    let form = token_form(code, verifier, redirect_uri);
    let (status, headers, body) =
        post_form(sim, "/oidc/token", &form, &[("authorization", &auth)]).await;
    (status, headers, serde_json::from_str(&body).unwrap())
}

fn token_form(code: &str, verifier: &str, redirect_uri: &str) -> Vec<(String, String)> {
    [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("code_verifier", verifier),
        ("redirect_uri", redirect_uri),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

/// Ada's authorization code for the console.
async fn console_code(sim: &SimHandle) -> String {
    code_for(sim, &request(CONSOLE, CONSOLE_REDIRECT), "ada-1").await
}

/// Checks a token answer is 400 `invalid_grant`.
fn invalid_grant((status, _, body): (u16, Vec<(String, String)>, Value)) {
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_grant", "{body}");
    assert!(body["error_description"].is_string());
}

/// A full sign-in of Ada at the console: the token endpoint's JSON.
async fn console_tokens(sim: &SimHandle) -> Value {
    let code = console_code(sim).await;
    let (status, _, body) = redeem(sim, &code, VERIFIER, CONSOLE_REDIRECT).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn decode_part(part: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// The ID token's header and claims once its signature verifies with the published key
/// its `kid` names; the reason otherwise.
async fn verify(sim: &SimHandle, id_token: &str) -> Result<(Value, Value), String> {
    let (status, _, jwks) = http(sim.addr, "GET", "/oidc/jwks", "", &[], "").await;
    assert_eq!(status, 200);
    let jwks: Value = serde_json::from_str(&jwks).unwrap();
    let parts: Vec<&str> = id_token.split('.').collect();
    assert_eq!(parts.len(), 3, "{id_token}");
    let (header, claims) = (decode_part(parts[0]), decode_part(parts[1]));
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    let message = format!("{}.{}", parts[0], parts[1]);
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .ok_or("no published key has this kid")?;
    if key["alg"] != header["alg"] {
        return Err(format!("alg {} is not the key's", header["alg"]));
    }
    let bytes = |name: &str| URL_SAFE_NO_PAD.decode(key[name].as_str().unwrap()).unwrap();
    let verified = match key["kty"].as_str().unwrap() {
        "RSA" => {
            let (n, e) = (bytes("n"), bytes("e"));
            assert_ne!(n[0], 0, "n has a leading zero byte");
            RsaPublicKeyComponents { n: &n, e: &e }.verify(
                &RSA_PKCS1_2048_8192_SHA256,
                message.as_bytes(),
                &signature,
            )
        }
        "EC" => {
            let mut point = vec![0x04];
            point.extend(bytes("x"));
            point.extend(bytes("y"));
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
                .verify(message.as_bytes(), &signature)
        }
        other => panic!("unexpected kty {other}"),
    };
    verified.map_err(|_| "bad signature".to_owned())?;
    Ok((header, claims))
}

mod authorize;
mod token;
