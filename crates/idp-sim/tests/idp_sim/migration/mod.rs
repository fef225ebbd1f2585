//! Issue 19 (a Janrain → Auth0 move): Janrain's `/entity` and `/entity.update` with server
//! credentials, Auth0's `POST /api/v2/users`, and users seeded in one provider or both.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code fails loudly

use base64::Engine;
use passgate_idp_sim::{SeedUser, SimClient, SimConfig, SimHandle, sha256_hex};
use serde_json::{Value, json};

use crate::support::{http, url_encode};

const CONNECTION: &str = "Username-Password-Authentication";

fn seed(email: &str, connection: &str, password: &str) -> SeedUser {
    SeedUser {
        email: email.into(),
        user_id: None,
        connection: Some(connection.into()),
        name: Some("Jane Doe".into()),
        blocked: false,
        email_verified: true,
        password: Some(password.into()),
    }
}

/// `both@` in Auth0 and Janrain (different passwords), `auth0only@`, `janrainonly@`; an
/// M2M client `mover` with `create:users`, and the default `sim-client` without it.
async fn start() -> SimHandle {
    let mut config = SimConfig::default();
    let mut scopes = passgate_idp_sim::passgate_scopes();
    scopes.push("create:users".into());
    config.auth0.clients.push(SimClient {
        client_id: "mover".into(),
        client_secret: "mover-secret".into(),
        scopes,
        enabled_connections: Vec::new(),
        login_uri: None,
    });
    config.janrain.password_history_size = 3;
    config.users = vec![
        seed("both@example.com", CONNECTION, "Auth0-Side-Passw0rd"),
        seed("both@example.com", "janrain", "Janrain-Side-Passw0rd"),
        seed("auth0only@example.com", CONNECTION, "Auth0-Side-Passw0rd"),
        seed(
            "janrainonly@example.com",
            "janrain",
            "Janrain-Side-Passw0rd",
        ),
    ];
    passgate_idp_sim::start(config).await.unwrap()
}

fn basic(id: &str, secret: &str) -> String {
    let raw = format!("{id}:{secret}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

async fn janrain(sim: &SimHandle, path: &str, auth: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let body = form
        .iter()
        .map(|(k, v)| format!("{k}={}", url_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let (status, _, text) = http(
        sim.addr,
        "POST",
        &format!("/janrain{path}"),
        "application/x-www-form-urlencoded",
        &[("authorization", auth)],
        &body,
    )
    .await;
    (status, serde_json::from_str(&text).unwrap())
}

fn owner() -> String {
    basic("sim-janrain-owner", "sim-janrain-owner-secret")
}

#[tokio::test]
async fn janrain_entity_reads_by_email_uuid_and_id_with_an_owner_client_only() {
    let sim = start().await;
    let by_email = [
        ("type_name", "user"),
        ("key_attribute", "email"),
        ("key_value", "\"janrainonly@example.com\""),
    ];
    let (status, body) = janrain(&sim, "/entity", &owner(), &by_email).await;
    assert_eq!(status, 200);
    assert_eq!(body["stat"], "ok", "{body}");
    let result = &body["result"];
    assert_eq!(result["email"], "janrainonly@example.com");
    assert_eq!(result["displayName"], "Jane Doe");
    assert!(result["emailVerified"].is_string(), "{body}");
    assert!(result.get("password").is_none(), "{body}");
    let uuid = result["uuid"].as_str().unwrap().to_owned();
    let id = result["id"].to_string();

    let (_, body) = janrain(
        &sim,
        "/entity",
        &owner(),
        &[("type_name", "user"), ("uuid", &uuid)],
    )
    .await;
    assert_eq!(body["result"]["email"], "janrainonly@example.com", "{body}");
    let limited = [
        ("type_name", "user"),
        ("id", id.as_str()),
        ("attributes", "[\"uuid\"]"),
    ];
    let (_, body) = janrain(&sim, "/entity", &owner(), &limited).await;
    assert_eq!(body["result"], json!({ "uuid": uuid }), "{body}");

    // An Auth0-only account is no Janrain record; the shared one is.
    let only_auth0 = [
        ("type_name", "user"),
        ("key_attribute", "email"),
        ("key_value", "\"auth0only@example.com\""),
    ];
    let (status, body) = janrain(&sim, "/entity", &owner(), &only_auth0).await;
    assert_eq!(status, 200);
    assert_eq!(
        (body["stat"].as_str(), body["code"].as_u64()),
        (Some("error"), Some(310))
    );
    assert_eq!(body["error"], "record_not_found");
    let both = [
        ("type_name", "user"),
        ("key_attribute", "email"),
        ("key_value", "\"both@example.com\""),
    ];
    let (_, body) = janrain(&sim, "/entity", &owner(), &both).await;
    assert_eq!(body["stat"], "ok", "{body}");

    // Refusals, each HTTP 200 with stat:error.
    type Case<'a> = (String, Vec<(&'a str, &'a str)>, u64, &'a str);
    let cases: Vec<Case> = vec![
        (
            basic("sim-janrain-owner", "wrong"),
            by_email.to_vec(),
            402,
            "invalid_client_credentials",
        ),
        (
            basic("nobody", "x"),
            by_email.to_vec(),
            402,
            "invalid_client_credentials",
        ),
        (
            basic("sim-janrain-client", "sim-janrain-secret"),
            by_email.to_vec(),
            403,
            "client_permission_error",
        ),
        (
            owner(),
            vec![("key_attribute", "email"), ("key_value", "\"a@b.c\"")],
            100,
            "missing_argument",
        ),
        (
            owner(),
            vec![("type_name", "user")],
            100,
            "missing_argument",
        ),
        (
            owner(),
            vec![
                ("type_name", "user"),
                ("key_attribute", "email"),
                ("key_value", "janrainonly@example.com"),
            ],
            200,
            "invalid_argument",
        ),
        (
            owner(),
            vec![("type_name", "user"), ("uuid", "u"), ("id", "1")],
            201,
            "duplicate_argument",
        ),
        (
            owner(),
            vec![("type_name", "account"), ("uuid", "u")],
            222,
            "unknown_entity_type",
        ),
        (
            owner(),
            vec![("type_name", "user"), ("id", "x")],
            200,
            "invalid_argument",
        ),
        (
            owner(),
            vec![
                ("type_name", "user"),
                ("uuid", &uuid),
                ("attributes", "[\"shoeSize\"]"),
            ],
            223,
            "unknown_attribute",
        ),
    ];
    for (auth, form, code, error) in cases {
        let (status, body) = janrain(&sim, "/entity", &auth, &form).await;
        assert_eq!(status, 200, "{form:?}: {body}");
        assert_eq!(body["stat"], "error", "{form:?}: {body}");
        assert_eq!(body["code"].as_u64(), Some(code), "{form:?}: {body}");
        assert_eq!(body["error"], error, "{form:?}: {body}");
    }
}

#[tokio::test]
async fn janrain_entity_update_sets_the_password_and_refuses_reuse_and_bad_attributes() {
    let sim = start().await;
    let update = |attributes: &'static str| {
        vec![
            ("type_name", "user"),
            ("key_attribute", "email"),
            ("key_value", "\"both@example.com\""),
            ("attributes", attributes),
        ]
    };
    let janrain_user = |sim: &SimHandle| {
        sim.users()
            .into_iter()
            .find(|u| u.email == "both@example.com" && u.connection == "janrain")
            .unwrap()
    };
    let (status, body) = janrain(
        &sim,
        "/entity.update",
        &owner(),
        &update("{\"password\":\"Moved-Passw0rd!\"}"),
    )
    .await;
    assert_eq!((status, &body), (200, &json!({ "stat": "ok" })));
    assert_eq!(
        janrain_user(&sim).password_sha256,
        Some(sha256_hex("Moved-Passw0rd!"))
    );
    // The Auth0 twin keeps its own password.
    let auth0_twin = sim
        .users()
        .into_iter()
        .find(|u| u.email == "both@example.com" && u.connection == CONNECTION)
        .unwrap();
    assert_eq!(
        auth0_twin.password_sha256,
        Some(sha256_hex("Auth0-Side-Passw0rd"))
    );

    let (_, body) = janrain(
        &sim,
        "/entity.update",
        &owner(),
        &update("{\"password\":\"Janrain-Side-Passw0rd\"}"),
    )
    .await;
    assert_eq!(body["code"].as_u64(), Some(352), "{body}");
    assert_eq!(body["error"], "password_unacceptable");

    for attributes in [
        "{\"password\":\"\"}",
        "{\"password\":5}",
        "[\"password\"]",
        "{\"uuid\":\"x\"}",
        "{}",
    ] {
        let (status, body) = janrain(&sim, "/entity.update", &owner(), &update(attributes)).await;
        assert_eq!(status, 200);
        assert_eq!(body["code"].as_u64(), Some(200), "{attributes}: {body}");
        assert_eq!(body["error"], "invalid_argument", "{attributes}: {body}");
        assert_eq!(body["argument_name"], "attributes", "{attributes}: {body}");
    }
    let login_client = basic("sim-janrain-client", "sim-janrain-secret");
    let (_, body) = janrain(
        &sim,
        "/entity.update",
        &login_client,
        &update("{\"password\":\"Other-Passw0rd!\"}"),
    )
    .await;
    assert_eq!(body["code"].as_u64(), Some(403), "{body}");
    let (_, body) = janrain(
        &sim,
        "/entity.update",
        &owner(),
        &[
            ("type_name", "user"),
            ("uuid", "nope"),
            ("attributes", "{\"password\":\"Other-Passw0rd!\"}"),
        ],
    )
    .await;
    assert_eq!(body["code"].as_u64(), Some(310), "{body}");
    assert_eq!(janrain_user(&sim).password_changes, 1);
}

async fn bearer(sim: &SimHandle, client: &str, secret: &str) -> String {
    let (status, body) = crate::support::json_call(
        sim.addr,
        "POST",
        "/oauth/token",
        json!({ "grant_type": "client_credentials", "client_id": client, "client_secret": secret,
                "audience": format!("https://{}/api/v2/", sim.addr) }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    format!("Bearer {}", body["access_token"].as_str().unwrap())
}

async fn create(sim: &SimHandle, bearer: &str, body: &Value) -> (u16, Value) {
    let (status, _, text) = http(
        sim.addr,
        "POST",
        "/api/v2/users",
        "application/json",
        &[("authorization", bearer)],
        &body.to_string(),
    )
    .await;
    (status, serde_json::from_str(&text).unwrap())
}

#[tokio::test]
async fn auth0_create_user_returns_201_then_409_and_refuses_what_auth0_refuses() {
    let sim = start().await;
    let mover = bearer(&sim, "mover", "mover-secret").await;
    let new = json!({ "connection": CONNECTION, "email": "janrainonly@example.com",
                      "password": "Moved-Passw0rd!x", "email_verified": true, "name": "Jane Doe",
                      "user_metadata": { "moved_from": "janrain" } });
    let (status, body) = create(&sim, &mover, &new).await;
    assert_eq!(status, 201, "{body}");
    let user_id = body["user_id"].as_str().unwrap().to_owned();
    assert!(user_id.starts_with("auth0|"), "{body}");
    assert_eq!(body["email_verified"], true);
    assert_eq!(body["user_metadata"], json!({ "moved_from": "janrain" }));
    assert_eq!(body["identities"][0]["connection"], CONNECTION);
    let view = sim
        .users()
        .into_iter()
        .find(|u| u.user_id == user_id)
        .unwrap();
    assert_eq!(view.password_sha256, Some(sha256_hex("Moved-Passw0rd!x")));
    // The created user is found by users-by-email.
    let (status, _, text) = http(
        sim.addr,
        "GET",
        "/api/v2/users-by-email?email=janrainonly%40example.com",
        "application/json",
        &[("authorization", &mover)],
        "",
    )
    .await;
    assert_eq!(status, 200);
    let found: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(found[0]["user_id"], user_id.as_str());

    let (status, body) = create(&sim, &mover, &new).await;
    assert_eq!(status, 409);
    assert_eq!(
        body,
        json!({ "statusCode": 409, "error": "Conflict", "message": "The user already exists.",
                "errorCode": "auth0_idp_error" })
    );
    let mut seeded = new.clone();
    seeded["email"] = json!("both@example.com");
    assert_eq!(create(&sim, &mover, &seeded).await.0, 409);

    let mut weak = new.clone();
    weak["email"] = json!("weak@example.com");
    weak["password"] = json!("short");
    let (status, body) = create(&sim, &mover, &weak).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        "PasswordStrengthError: Password is too weak"
    );
    assert!(
        sim.user("weak@example.com").is_none(),
        "a refused create leaves no user"
    );

    let without = |key: &str| {
        let mut body = new.clone();
        body["email"] = json!("other@example.com");
        body.as_object_mut().unwrap().remove(key);
        body
    };
    for (body, message) in [
        (
            without("connection"),
            "Payload validation error: 'Missing required property: connection'.",
        ),
        (
            without("email"),
            "Payload validation error: 'Missing required property: email'.",
        ),
        (
            without("password"),
            "Payload validation error: 'Missing required property: password'.",
        ),
        (
            json!({ "connection": "Nope", "email": "o@example.com", "password": "Moved-Passw0rd!x" }),
            "The connection does not exist.",
        ),
        (
            json!({ "connection": "janrain", "email": "o@example.com", "password": "Moved-Passw0rd!x" }),
            "The connection does not exist.",
        ),
        (
            json!({ "connection": CONNECTION, "email": "o@example.com", "password": "Moved-Passw0rd!x", "verify_password": true }),
            "Payload validation error: 'Additional properties not allowed: verify_password'.",
        ),
    ] {
        let (status, reply) = create(&sim, &mover, &body).await;
        assert_eq!(status, 400, "{body}: {reply}");
        assert_eq!(reply["errorCode"], "invalid_body", "{body}: {reply}");
        assert_eq!(reply["message"], message, "{body}: {reply}");
    }
    let (status, reply) = create(
        &sim,
        &mover,
        &json!({ "connection": CONNECTION, "email": "not-an-email", "password": "Moved-Passw0rd!x" }),
    )
    .await;
    assert_eq!(
        (status, reply["errorCode"].as_str()),
        (400, Some("invalid_body"))
    );

    // The default Passgate client has no create:users.
    let plain = bearer(&sim, "sim-client", "sim-secret").await;
    let mut other = new.clone();
    other["email"] = json!("scope@example.com");
    let (status, body) = create(&sim, &plain, &other).await;
    assert_eq!(status, 403);
    assert_eq!(body["errorCode"], "insufficient_scope");
    assert_eq!(
        body["message"],
        "Insufficient scope; expected any of: create:users."
    );
    assert!(sim.user("scope@example.com").is_none());
}
