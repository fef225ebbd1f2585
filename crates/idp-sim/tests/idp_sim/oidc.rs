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

#[tokio::test]
async fn discovery_names_the_issuer_endpoints_and_what_it_supports() {
    let sim = sim().await;
    let issuer = sim.oidc_issuer();
    assert_eq!(issuer, format!("{}/oidc", sim.base_url));
    let (status, _, body) = http(
        sim.addr,
        "GET",
        "/oidc/.well-known/openid-configuration",
        "",
        &[],
        "",
    )
    .await;
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["issuer"], issuer);
    assert_eq!(doc["authorization_endpoint"], format!("{issuer}/authorize"));
    assert_eq!(doc["token_endpoint"], format!("{issuer}/token"));
    assert_eq!(doc["jwks_uri"], format!("{issuer}/jwks"));
    assert_eq!(doc["response_types_supported"], json!(["code"]));
    assert_eq!(doc["subject_types_supported"], json!(["public"]));
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["RS256", "ES256"])
    );
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post", "none"])
    );
    assert_eq!(doc["grant_types_supported"], json!(["authorization_code"]));
    assert_eq!(
        doc["scopes_supported"],
        json!(["openid", "email", "profile"])
    );
    let claims = doc["claims_supported"].as_array().unwrap();
    for claim in ["sub", "iss", "aud", "nonce", "email", "passgate_role"] {
        assert!(claims.contains(&json!(claim)), "{claim}");
    }
}

#[tokio::test]
async fn without_an_oidc_section_every_oidc_route_is_404() {
    let sim = passgate_idp_sim::start(SimConfig::default()).await.unwrap();
    for (method, path) in [
        ("GET", "/oidc/.well-known/openid-configuration"),
        ("GET", "/oidc/jwks"),
        ("GET", "/oidc/authorize"),
        ("POST", "/oidc/token"),
    ] {
        let (status, _, _) = http(sim.addr, method, path, "", &[], "").await;
        assert_eq!(status, 404, "{method} {path}");
    }
}

#[tokio::test]
async fn the_seed_refuses_extra_claims_named_like_the_issuers_own() {
    let mut oidc = settings();
    oidc.people[0].claims.insert("aud".into(), json!("evil"));
    let error = passgate_idp_sim::start(SimConfig {
        oidc: Some(oidc),
        ..SimConfig::default()
    })
    .await
    .unwrap_err();
    assert!(error.to_string().contains("aud"), "{error}");
}

#[tokio::test]
async fn the_sign_in_page_lists_the_people_and_carries_the_request() {
    let sim = sim().await;
    let pairs = with(
        request(CONSOLE, CONSOLE_REDIRECT),
        "login_hint",
        Some("grace@example.com"),
    );
    let (status, headers, page) = get_authorize(&sim, &pairs).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(header(&headers, "cache-control"), Some("no-store"));
    assert!(page.contains("<html lang=\"en\">"));
    assert!(page.contains("<title>") && page.contains("<main>") && page.contains("<h1>"));
    assert!(!page.contains("<script"));
    assert!(page.contains("<form method=\"post\" action=\"/oidc/authorize\">"));
    // Names are escaped; each person is a labelled radio button.
    assert!(
        page.contains("Ada &lt;Lovelace&gt; (ada@example.com)"),
        "{page}"
    );
    assert!(page.contains("value=\"ada-1\">"), "{page}");
    // login_hint preselects Grace.
    assert!(page.contains("value=\"grace-2\" checked>"), "{page}");
    // The state travels in a hidden field, escaped.
    assert!(
        page.contains("name=\"state\" value=\"st a&amp;te=/ü+%\""),
        "{page}"
    );
    assert!(page.contains("value=\"sign_in\">Sign in</button>"));
    assert!(page.contains("value=\"cancel\">Cancel</button>"));

    // Without a hint the first person is checked.
    let (_, _, page) = get_authorize(&sim, &request(CONSOLE, CONSOLE_REDIRECT)).await;
    assert!(page.contains("value=\"ada-1\" checked>"), "{page}");
}

#[tokio::test]
async fn the_code_flow_gives_an_rs256_id_token_that_verifies_with_the_jwks() {
    let sim = sim().await;
    let tokens = console_tokens(&sim).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert_eq!(tokens["scope"], "openid email profile");
    assert!(tokens["access_token"].as_str().unwrap().len() >= 22);
    let (header, claims) = verify(&sim, tokens["id_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"], "sim-rs256-1");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(claims["iss"], sim.oidc_issuer());
    assert_eq!(claims["aud"], CONSOLE);
    assert_eq!(claims["azp"], CONSOLE);
    assert_eq!(claims["sub"], "ada-1");
    assert_eq!(claims["nonce"], NONCE);
    assert_eq!(claims["email"], "ada@example.com");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["name"], "Ada <Lovelace>");
    assert_eq!(claims["passgate_role"], "tenant-editor");
    assert_eq!(claims["passgate_tenants"], json!(["acme"]));
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert_eq!(exp - iat, 300);
    assert!(claims["auth_time"].as_i64().unwrap() <= iat);

    // The call log holds neither the code, nor the verifier, nor the secret.
    let log = serde_json::to_string(&sim.calls()).unwrap();
    assert!(!log.contains(VERIFIER));
    assert!(!log.contains(&url_encode(CONSOLE_SECRET)));
    let token_call = sim
        .calls()
        .into_iter()
        .find(|c| c.path == "/oidc/token")
        .unwrap();
    assert!(
        token_call.params["code"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert!(token_call.authorized);
}

#[tokio::test]
async fn the_token_answer_is_not_cached() {
    let sim = sim().await;
    let code = console_code(&sim).await;
    let (status, headers, _) = redeem(&sim, &code, VERIFIER, CONSOLE_REDIRECT).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "cache-control"), Some("no-store"));
    assert_eq!(header(&headers, "pragma"), Some("no-cache"));
}

#[tokio::test]
async fn an_es256_public_client_gets_an_es256_id_token_and_its_query_kept() {
    let sim = sim().await;
    let pairs = request(SPA, SPA_REDIRECT);
    let answer = sign_in(&sim, &pairs, Some("grace-2")).await;
    // `redirected` checks the code is appended to the existing query with `&`.
    let query = redirected(&answer, SPA_REDIRECT);
    assert_eq!(param(&query, "from"), Some("sim"));
    let code = param(&query, "code").unwrap();
    assert!(URL_SAFE_NO_PAD.decode(code).unwrap().len() >= 16);
    let mut form = token_form(code, VERIFIER, SPA_REDIRECT);
    form.push(("client_id".into(), SPA.into()));
    let (status, _, body) = post_form(&sim, "/oidc/token", &form, &[]).await;
    assert_eq!(status, 200, "{body}");
    let tokens: Value = serde_json::from_str(&body).unwrap();
    let (header, claims) = verify(&sim, tokens["id_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(header["alg"], "ES256");
    assert!(header["kid"].as_str().unwrap().starts_with("sim-es256-"));
    assert_eq!(claims["aud"], SPA);
    assert_eq!(claims["sub"], "grace-2");
    assert!(claims.get("passgate_role").is_none());
}

#[tokio::test]
async fn email_and_name_follow_the_scopes_and_nonce_the_request() {
    let sim = sim().await;
    let pairs = with(request(CONSOLE, CONSOLE_REDIRECT), "scope", Some("openid"));
    let pairs = with(pairs, "nonce", None);
    let code = code_for(&sim, &pairs, "ada-1").await;
    let (status, _, tokens) = redeem(&sim, &code, VERIFIER, CONSOLE_REDIRECT).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["scope"], "openid");
    let (_, claims) = verify(&sim, tokens["id_token"].as_str().unwrap())
        .await
        .unwrap();
    assert!(claims.get("email").is_none() && claims.get("name").is_none());
    assert!(claims.get("nonce").is_none());
    assert_eq!(claims["passgate_role"], "tenant-editor");
}

#[tokio::test]
async fn an_unregistered_client_or_redirect_uri_gets_a_400_page_never_a_redirect() {
    let sim = sim().await;
    let cases = [
        request(CONSOLE, "https://evil.example.com/cb"),
        // A prefix match is not a match.
        request(CONSOLE, &format!("{CONSOLE_REDIRECT}/more")),
        request(CONSOLE, SPA_REDIRECT),
        request("nobody", CONSOLE_REDIRECT),
        with(request(CONSOLE, CONSOLE_REDIRECT), "redirect_uri", None),
    ];
    for pairs in cases {
        for answer in [
            get_authorize(&sim, &pairs).await,
            sign_in(&sim, &pairs, Some("ada-1")).await,
        ] {
            assert_eq!(answer.0, 400, "{pairs:?}");
            assert_eq!(header(&answer.1, "location"), None);
            assert!(answer.2.contains("<h1>"));
        }
    }
}

#[tokio::test]
async fn bad_requests_go_back_to_the_client_with_the_error_and_state() {
    let sim = sim().await;
    let base = || request(CONSOLE, CONSOLE_REDIRECT);
    let cases = [
        (
            with(base(), "response_type", Some("token")),
            "unsupported_response_type",
        ),
        (
            with(base(), "scope", Some("email profile")),
            "invalid_scope",
        ),
        (with(base(), "code_challenge", None), "invalid_request"),
        (
            with(base(), "code_challenge_method", Some("plain")),
            "invalid_request",
        ),
        (
            with(base(), "code_challenge_method", None),
            "invalid_request",
        ),
        (
            with(base(), "code_challenge", Some("too-short")),
            "invalid_request",
        ),
        (
            with(base(), "code_challenge", Some(&"*".repeat(43))),
            "invalid_request",
        ),
    ];
    for (pairs, error) in cases {
        for answer in [
            get_authorize(&sim, &pairs).await,
            // The form's hidden fields are checked again.
            sign_in(&sim, &pairs, Some("ada-1")).await,
        ] {
            let query = redirected(&answer, CONSOLE_REDIRECT);
            assert_eq!(param(&query, "error"), Some(error), "{pairs:?}");
            assert!(param(&query, "error_description").is_some());
            assert_eq!(param(&query, "state"), Some(STATE));
            assert_eq!(param(&query, "code"), None);
        }
    }
}

#[tokio::test]
async fn cancel_is_access_denied() {
    let sim = sim().await;
    let answer = sign_in(&sim, &request(CONSOLE, CONSOLE_REDIRECT), None).await;
    let query = redirected(&answer, CONSOLE_REDIRECT);
    assert_eq!(param(&query, "error"), Some("access_denied"));
    assert_eq!(param(&query, "state"), Some(STATE));
    assert_eq!(param(&query, "code"), None);
}

#[tokio::test]
async fn an_unknown_subject_gets_a_400_page() {
    let sim = sim().await;
    let answer = sign_in(&sim, &request(CONSOLE, CONSOLE_REDIRECT), Some("mallory")).await;
    assert_eq!(answer.0, 400);
    assert_eq!(header(&answer.1, "location"), None);
}

#[tokio::test]
async fn a_wrong_verifier_is_invalid_grant_and_burns_the_code() {
    let sim = sim().await;
    let code = console_code(&sim).await;
    let other = "x".repeat(43);
    invalid_grant(redeem(&sim, &code, &other, CONSOLE_REDIRECT).await);
    invalid_grant(redeem(&sim, &code, VERIFIER, CONSOLE_REDIRECT).await);

    // A verifier outside RFC 7636's alphabet or length, even one hashing right, is refused.
    for verifier in ["short", &format!("{}!", "a".repeat(50)), &"a".repeat(129)] {
        let pairs = with(
            request(CONSOLE, CONSOLE_REDIRECT),
            "code_challenge",
            Some(&challenge(verifier)),
        );
        let code = code_for(&sim, &pairs, "ada-1").await;
        invalid_grant(redeem(&sim, &code, verifier, CONSOLE_REDIRECT).await);
    }
}

#[tokio::test]
async fn a_code_works_once() {
    let sim = sim().await;
    let code = console_code(&sim).await;
    let (status, _, _) = redeem(&sim, &code, VERIFIER, CONSOLE_REDIRECT).await;
    assert_eq!(status, 200);
    invalid_grant(redeem(&sim, &code, VERIFIER, CONSOLE_REDIRECT).await);
}

#[tokio::test]
async fn the_token_redirect_uri_must_be_the_authorize_one() {
    let sim = sim().await;
    let code = console_code(&sim).await;
    let other = format!("{CONSOLE_REDIRECT}/");
    invalid_grant(redeem(&sim, &code, VERIFIER, &other).await);
}

#[tokio::test]
async fn a_code_expires_after_sixty_seconds() {
    let sim = sim().await;
    // Still good just before the minute is up.
    let code = console_code(&sim).await;
    sim.advance_clock(Duration::from_secs(58));
    let (status, _, body) = redeem(&sim, &code, VERIFIER, CONSOLE_REDIRECT).await;
    assert_eq!(status, 200, "{body}");
    let code = console_code(&sim).await;
    sim.advance_clock(Duration::from_secs(61));
    invalid_grant(redeem(&sim, &code, VERIFIER, CONSOLE_REDIRECT).await);
}

#[tokio::test]
async fn a_code_is_bound_to_its_client() {
    let sim = sim().await;
    let code = console_code(&sim).await;
    let mut form = token_form(&code, VERIFIER, CONSOLE_REDIRECT);
    form.push(("client_id".into(), SPA.into()));
    let (status, _, body) = post_form(&sim, "/oidc/token", &form, &[]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("\"invalid_grant\""));
}

#[tokio::test]
async fn client_authentication_is_strict() {
    let sim = sim().await;
    let form = |code: &str| token_form(code, VERIFIER, CONSOLE_REDIRECT);
    let plus = |mut pairs: Vec<(String, String)>, extra: &[(&str, &str)]| {
        pairs.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        pairs
    };
    let wrong = basic(CONSOLE, "wrong");
    let right = basic(CONSOLE, CONSOLE_SECRET);
    // Not url-encoded before base64: `:` in the secret splits it wrongly.
    let raw = format!(
        "Basic {}",
        STANDARD.encode(format!("{CONSOLE}:{CONSOLE_SECRET}"))
    );
    let unauthorized: [(Pairs, Vec<(&str, &str)>); 5] = [
        (form("c"), vec![("authorization", &wrong)]),
        (form("c"), vec![("authorization", raw.as_str())]),
        (
            plus(
                form("c"),
                &[("client_id", CONSOLE), ("client_secret", "wrong")],
            ),
            vec![],
        ),
        (plus(form("c"), &[("client_id", CONSOLE)]), vec![]),
        // A public client has no secret to send.
        (
            plus(form("c"), &[("client_id", SPA), ("client_secret", "x")]),
            vec![],
        ),
    ];
    for (pairs, headers) in unauthorized {
        let (status, answer, body) = post_form(&sim, "/oidc/token", &pairs, &headers).await;
        assert_eq!(status, 401, "{pairs:?} {body}");
        assert!(body.contains("\"invalid_client\""), "{body}");
        assert!(
            header(&answer, "www-authenticate")
                .unwrap()
                .starts_with("Basic")
        );
    }
    // Two methods at once.
    let pairs = plus(form("c"), &[("client_secret", CONSOLE_SECRET)]);
    let (status, _, body) =
        post_form(&sim, "/oidc/token", &pairs, &[("authorization", &right)]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("\"invalid_request\""), "{body}");

    // client_secret_post with the right secret works.
    let code = console_code(&sim).await;
    let pairs = plus(
        form(&code),
        &[("client_id", CONSOLE), ("client_secret", CONSOLE_SECRET)],
    );
    let (status, _, body) = post_form(&sim, "/oidc/token", &pairs, &[]).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn the_token_endpoint_wants_a_form_and_the_code_grant() {
    let sim = sim().await;
    let auth = basic(CONSOLE, CONSOLE_SECRET);
    let body = json!({ "grant_type": "authorization_code", "code": "c" }).to_string();
    let (status, _, text) = http(
        sim.addr,
        "POST",
        "/oidc/token",
        "application/json",
        &[("authorization", &auth)],
        &body,
    )
    .await;
    assert_eq!(status, 400);
    assert!(text.contains("\"invalid_request\""), "{text}");
    let pairs = with(
        token_form("c", VERIFIER, CONSOLE_REDIRECT),
        "grant_type",
        Some("password"),
    );
    let (status, _, text) =
        post_form(&sim, "/oidc/token", &pairs, &[("authorization", &auth)]).await;
    assert_eq!(status, 400);
    assert!(text.contains("\"unsupported_grant_type\""), "{text}");
}

#[tokio::test]
async fn each_id_token_fault_makes_the_tokens_wrong_as_named_until_cleared() {
    let sim = sim().await;
    for fault in [
        IdTokenFault::BadSignature,
        IdTokenFault::WrongAudience,
        IdTokenFault::WrongIssuer,
        IdTokenFault::Expired,
        IdTokenFault::WrongNonce,
        IdTokenFault::AlgNone,
        IdTokenFault::UnknownKid,
    ] {
        sim.set_oidc_id_token_fault(Some(fault));
        let token = console_tokens(&sim).await["id_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let parts: Vec<&str> = token.split('.').collect();
        let (header, claims) = (decode_part(parts[0]), decode_part(parts[1]));
        let verified = verify(&sim, &token).await;
        let verifies = verified.is_ok();
        match fault {
            IdTokenFault::BadSignature => {
                assert_eq!(verified.unwrap_err(), "bad signature");
            }
            IdTokenFault::WrongAudience => {
                assert_eq!(verified.unwrap().1["aud"], "another-client");
            }
            IdTokenFault::WrongIssuer => {
                let iss = format!("{}/evil", sim.oidc_issuer());
                assert_eq!(verified.unwrap().1["iss"], iss);
            }
            IdTokenFault::Expired => {
                // Relative to the sign-in a moment ago (the simulator clock).
                let claims = verified.unwrap().1;
                let signed_in = claims["auth_time"].as_i64().unwrap();
                assert!(claims["exp"].as_i64().unwrap() <= signed_in - 599);
                assert!(claims["iat"].as_i64().unwrap() <= signed_in - 899);
            }
            IdTokenFault::WrongNonce => {
                assert_eq!(verified.unwrap().1["nonce"], "not-the-nonce");
            }
            IdTokenFault::AlgNone => {
                assert_eq!(header["alg"], "none");
                assert_eq!(parts[2], "");
                assert!(verified.is_err());
            }
            IdTokenFault::UnknownKid => {
                assert_eq!(header["kid"], "rotated-away");
                assert!(verified.is_err());
            }
        }
        // Everything the fault does not name is still right.
        if fault != IdTokenFault::WrongAudience {
            assert_eq!(claims["aud"], CONSOLE, "{fault:?}");
        }
        if fault != IdTokenFault::WrongNonce {
            assert_eq!(claims["nonce"], NONCE, "{fault:?}");
        }
        // It stays set.
        let again = console_tokens(&sim).await["id_token"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(verify(&sim, &again).await.is_ok(), verifies, "{fault:?}");
    }
    sim.set_oidc_id_token_fault(None);
    let token = console_tokens(&sim).await["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, claims) = verify(&sim, &token).await.unwrap();
    assert_eq!(claims["aud"], CONSOLE);
}

#[tokio::test]
async fn the_control_api_sets_and_clears_the_id_token_fault() {
    let sim = sim().await;
    let path = "/_sim/oidc/id_token_fault";
    let put = |body: Value| async move { json_call(sim.addr, "PUT", path, body).await };
    assert_eq!(put(json!({ "fault": "wrong_issuer" })).await.0, 200);
    let (_, state) = json_call(sim.addr, "GET", path, json!({})).await;
    assert_eq!(state, json!({ "fault": "wrong_issuer" }));
    let token = console_tokens(&sim).await["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, claims) = verify(&sim, &token).await.unwrap();
    assert_eq!(claims["iss"], format!("{}/evil", sim.oidc_issuer()));
    assert_eq!(put(json!({ "fault": "no_such_fault" })).await.0, 400);
    assert_eq!(put(json!({ "fault": null })).await.0, 200);
    let token = console_tokens(&sim).await["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, claims) = verify(&sim, &token).await.unwrap();
    assert_eq!(claims["iss"], sim.oidc_issuer());
}
