//! The simulator seen from another process: raw HTTP against its wire contract and its
//! `/_sim/` control API, and the example seed file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code fails loudly

use crate::support;

use std::path::Path;

use passgate_idp_sim::{SimConfig, sha256_hex};
use serde_json::{Value, json};
use support::{header, http, json_call, url_encode};

#[test]
fn the_example_users_file_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("users.example.yaml");
    let config = SimConfig::from_file(&path).unwrap();
    assert_eq!(config.users.len(), 5);
    assert_eq!(config.auth0.connections[0].password_history_size, 5);
    assert_eq!(config.users[2].connection.as_deref(), Some("janrain"));
    // moving@ is in both providers.
    assert_eq!(config.users[3].email, config.users[4].email);
    assert_eq!(config.users[4].connection.as_deref(), Some("janrain"));
    assert_eq!(config.janrain.clients[1].scopes, ["owner"]);
}

#[test]
fn unknown_keys_in_the_seed_are_rejected() {
    let err =
        SimConfig::from_yaml("users:\n  - email: a@example.com\n    pasword: x\n").unwrap_err();
    assert!(err.to_string().contains("pasword"), "{err}");
}

#[tokio::test]
async fn wire_details_match_the_contract() {
    let sim = passgate_idp_sim::start(SimConfig::default()).await.unwrap();
    let addr = sim.addr;

    // change_password: text/html sentence, rate-limit headers, same answer for unknown users.
    let body = json!({ "client_id": "sim-client", "email": "nobody@example.com",
                       "connection": "Username-Password-Authentication" });
    let (status, headers, text) = http(
        addr,
        "POST",
        "/dbconnections/change_password",
        "application/json",
        &[],
        &body.to_string(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(text, passgate_idp_sim::CHANGE_PASSWORD_SENTENCE);
    assert!(
        header(&headers, "x-ratelimit-reset")
            .unwrap()
            .parse::<i64>()
            .unwrap()
            > 1_700_000_000
    );
    assert!(header(&headers, "x-ratelimit-limit").is_some());

    // Management API without a token: hapi's 401 shape.
    let (status, headers, text) = http(
        addr,
        "GET",
        "/api/v2/users-by-email?email=a%40b.c",
        "",
        &[],
        "",
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(
        header(&headers, "content-type"),
        Some("application/json; charset=utf-8")
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        body,
        json!({ "statusCode": 401, "error": "Unauthorized", "message": "Missing authentication" })
    );

    // Token by form (node-auth0 style), then an unknown user: 404 inexistent_user.
    let form = format!(
        "grant_type=client_credentials&client_id=sim-client&client_secret=sim-secret&audience={}",
        url_encode(&format!(
            "{}/api/v2/",
            sim.base_url.replace("http://", "https://")
        ))
    );
    let (status, _, text) = http(
        addr,
        "POST",
        "/oauth/token",
        "application/x-www-form-urlencoded",
        &[],
        &form,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let token: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(
        token["access_token"].as_str().unwrap().split('.').count(),
        3
    );
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    let (status, _, text) = http(
        addr,
        "GET",
        "/api/v2/users/auth0%7Cnobody",
        "",
        &[("authorization", &bearer)],
        "",
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["errorCode"],
        "inexistent_user"
    );

    // Janrain errors are HTTP 200 with stat:error.
    let (status, _, text) = http(
        addr,
        "POST",
        "/janrain/oauth/forgot_password_native",
        "application/x-www-form-urlencoded",
        &[],
        "client_id=sim-janrain-client",
    )
    .await;
    assert_eq!(status, 200);
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (body["stat"].as_str(), body["code"].as_u64()),
        (Some("error"), Some(100))
    );
    assert_eq!(body["request_token"].as_str().unwrap().len(), 16);
}

#[tokio::test]
async fn the_control_api_seeds_injects_and_reports() {
    let sim = passgate_idp_sim::start(SimConfig::default()).await.unwrap();
    let addr = sim.addr;
    let (status, _) = json_call(
        addr,
        "POST",
        "/_sim/users",
        json!({
            "email": "Kim@Example.com", "user_id": "auth0|kim", "password": "Old-Passw0rd!"
        }),
    )
    .await;
    assert_eq!(status, 201);
    let (_, users) = json_call(addr, "GET", "/_sim/users", Value::Null).await;
    let kim = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["user_id"] == "auth0|kim")
        .unwrap();
    assert_eq!(kim["email"], "kim@example.com");
    assert_eq!(kim["password_sha256"], sha256_hex("Old-Passw0rd!"));

    let (status, _) = json_call(
        addr,
        "POST",
        "/_sim/faults",
        json!({
            "path": "/dbconnections", "times": 1, "kind": { "type": "status", "status": 503 }
        }),
    )
    .await;
    assert_eq!(status, 201);
    let body =
        json!({ "email": "kim@example.com", "connection": "Username-Password-Authentication",
                       "client_id": "sim-client" })
        .to_string();
    let first = http(
        addr,
        "POST",
        "/dbconnections/change_password",
        "application/json",
        &[],
        &body,
    )
    .await;
    let second = http(
        addr,
        "POST",
        "/dbconnections/change_password",
        "application/json",
        &[],
        &body,
    )
    .await;
    assert_eq!((first.0, second.0), (503, 200));

    let (_, mailbox) = json_call(addr, "GET", "/_sim/mailbox", Value::Null).await;
    assert_eq!(mailbox.as_array().unwrap().len(), 1);
    assert_eq!(mailbox[0]["to"], "kim@example.com");

    // Secrets are hashed in the call log.
    let token_body = json!({ "grant_type": "client_credentials", "client_id": "sim-client",
        "client_secret": "sim-secret", "audience": format!("{}/api/v2/", sim.base_url.replace("http://", "https://")) });
    json_call(addr, "POST", "/oauth/token", token_body).await;
    let (_, calls) = json_call(addr, "GET", "/_sim/calls", Value::Null).await;
    let text = calls.to_string();
    assert!(!text.contains("sim-secret"));
    assert!(text.contains(&format!("sha256:{}", sha256_hex("sim-secret"))));
    assert_eq!(
        calls
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["status"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [503, 200, 200]
    );

    let (status, now) =
        json_call(addr, "POST", "/_sim/clock", json!({ "advance_secs": 3600 })).await;
    assert_eq!(status, 200);
    assert!(now["now"].is_string());
}
