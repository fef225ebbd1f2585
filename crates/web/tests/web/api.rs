//! In-process tests of the public JSON API over the real engine: the whole flow, problem
//! documents per status, strict bodies, and the OpenAPI document.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::{BASE, Harness, PASSWORD, link_in, plain_text, token_of};
use passgate_web::app;
use poem::test::TestClient;
use serde_json::{Value, json};

async fn json_of(resp: poem::test::TestResponse) -> (u16, String, Value) {
    let status = resp.0.status().as_u16();
    let ct = resp
        .0
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = resp.0.into_body().into_string().await.unwrap();
    (
        status,
        ct,
        serde_json::from_str(&body).unwrap_or(Value::Null),
    )
}

fn assert_problem(got: &(u16, String, Value), status: u16, slug: &str) {
    assert_eq!(got.0, status, "{:?}", got.2);
    assert_eq!(got.1, "application/problem+json", "{:?}", got.2);
    assert_eq!(
        got.2["type"],
        format!("urn:passgate:problem:{slug}"),
        "{:?}",
        got.2
    );
    assert_eq!(got.2["status"], status);
    assert!(got.2["title"].is_string());
}

async fn post_json<E: poem::Endpoint>(
    c: &TestClient<E>,
    uri: &str,
    body: &str,
) -> (u16, String, Value) {
    json_of(
        c.post(uri)
            .content_type("application/json")
            .body(body.to_owned())
            .send()
            .await,
    )
    .await
}

async fn mailed_token(h: &Harness) -> String {
    h.drain().await;
    let mail = h.mails().into_iter().last().expect("a mail");
    token_of(&link_in(&plain_text(&mail)).unwrap())
}

#[tokio::test]
async fn a_native_app_resets_a_password_through_the_api() {
    let h = Harness::new(BASE).await;
    let c = TestClient::new(app(h.state.clone())).default_header("host", common::HOST);
    let body = json!({"client_id": "fitlife-ios", "email": "ada@example.com", "locale": "en",
        "redirect_uri": "fitlife://password-reset/done"});
    let got = post_json(&c, "/v1/password-resets", &body.to_string()).await;
    assert_eq!(got.0, 202, "{:?}", got.2);
    assert!(got.2["flow_id"].as_str().is_some_and(|f| f.len() >= 20));
    let unknown = json!({"client_id": "fitlife-ios", "email": "nobody@example.com"});
    let other = post_json(&c, "/v1/password-resets", &unknown.to_string()).await;
    assert_eq!(other.0, 202, "unknown accounts get the same answer");

    let token = mailed_token(&h).await;
    let got = json_of(c.get(format!("/v1/password-resets/{token}")).send().await).await;
    assert_eq!(got.0, 200, "{:?}", got.2);
    assert_eq!(got.2["state"], "usable");
    assert_eq!(got.2["locale"], "en");
    assert_eq!(got.2["policy"]["min_length"], 15);
    assert!(
        got.2["policy"]["script"]
            .as_str()
            .unwrap()
            .contains("function validate")
    );
    assert!(!got.2.to_string().contains(&token), "the token came back");

    let weak = json!({"password": "zzzzzzzzzzzzzzzzzzzz", "password_confirmation": "zzzzzzzzzzzzzzzzzzzz"});
    let got = post_json(
        &c,
        &format!("/v1/password-resets/{token}/complete"),
        &weak.to_string(),
    )
    .await;
    assert_problem(&got, 422, "password-policy");
    let codes: Vec<&str> = got.2["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"script:fitlife.no_repeats"), "{codes:?}");
    let repeat = got.2["violations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["code"] == "script:fitlife.no_repeats")
        .unwrap();
    assert_eq!(
        repeat["message"],
        "At most 3 identical characters in a row."
    );
    assert_eq!(h.password_patches(), 0);

    let mismatch = json!({"password": PASSWORD, "password_confirmation": "not the same at all"});
    let got = post_json(
        &c,
        &format!("/v1/password-resets/{token}/complete"),
        &mismatch.to_string(),
    )
    .await;
    assert_problem(&got, 422, "password-mismatch");

    let good = json!({"password": PASSWORD, "password_confirmation": PASSWORD});
    let got = post_json(
        &c,
        &format!("/v1/password-resets/{token}/complete"),
        &good.to_string(),
    )
    .await;
    assert_eq!(got.0, 200, "{:?}", got.2);
    assert_eq!(got.2["redirect_uri"], "fitlife://password-reset/done");
    assert_eq!(h.password_patches(), 1);

    let again = post_json(
        &c,
        &format!("/v1/password-resets/{token}/complete"),
        &good.to_string(),
    )
    .await;
    assert_problem(&again, 410, "invalid-link");
    let read = json_of(c.get(format!("/v1/password-resets/{token}")).send().await).await;
    assert_problem(&read, 410, "invalid-link");
}

#[tokio::test]
async fn request_errors_are_problem_documents_with_stable_types() {
    let h = Harness::new(BASE).await;
    let c = TestClient::new(app(h.state.clone())).default_header("host", common::HOST);
    let cases: [(&str, u16, &str); 10] = [
        (
            r#"{"client_id":"fitlife-ios","email":["ada@example.com","eve@evil.example"]}"#,
            400,
            "invalid-request",
        ),
        (
            r#"{"client_id":"fitlife-ios","email":"ada@example.com","email":"eve@evil.example"}"#,
            400,
            "duplicate-field",
        ),
        (
            r#"{"client_id":"fitlife-ios","email":"ada@example.com","cc":"eve@evil.example"}"#,
            400,
            "invalid-request",
        ),
        (r#"{"client_id":"fitlife-ios"}"#, 400, "invalid-request"),
        // Strings only: a number or boolean is not turned into text.
        (
            r#"{"client_id":"fitlife-ios","email":"ada@example.com","locale":42}"#,
            400,
            "invalid-request",
        ),
        (
            r#"{"client_id":true,"email":"ada@example.com"}"#,
            400,
            "invalid-request",
        ),
        (r#"not json"#, 400, "invalid-request"),
        (
            r#"{"client_id":"nope","email":"ada@example.com"}"#,
            404,
            "unknown-client",
        ),
        (
            r#"{"client_id":"fitlife-ios","email":"ada@example.com","redirect_uri":"https://evil.example"}"#,
            400,
            "redirect-not-allowed",
        ),
        (
            r#"{"client_id":"fitlife-ios","email":"ada@example.com","redirect_uri":"fitlife://password-reset/done/"}"#,
            400,
            "redirect-not-allowed",
        ),
    ];
    for (body, status, slug) in cases {
        let got = post_json(&c, "/v1/password-resets", body).await;
        assert_problem(&got, status, slug);
    }
    let big = format!(
        r#"{{"client_id":"fitlife-ios","email":"{}"}}"#,
        "a".repeat(40_000)
    );
    assert_problem(
        &post_json(&c, "/v1/password-resets", &big).await,
        413,
        "too-large",
    );
    let wrong_type = json_of(
        c.post("/v1/password-resets")
            .content_type("text/plain")
            .body("x")
            .send()
            .await,
    )
    .await;
    assert_eq!(wrong_type.1, "application/problem+json");
    assert!(wrong_type.0 == 400 || wrong_type.0 == 415, "{wrong_type:?}");
    h.drain().await;
    assert!(h.mails().is_empty(), "a refused request sent mail");
}

#[tokio::test]
async fn the_policy_endpoint_serves_rules_messages_and_script_per_locale() {
    let h = Harness::new(BASE).await;
    let c = TestClient::new(app(h.state.clone())).default_header("host", common::HOST);
    let got = json_of(
        c.get("/v1/apps/fitlife-web/password-policy?locale=es")
            .send()
            .await,
    )
    .await;
    assert_eq!(got.0, 200);
    assert_eq!(got.2["locale"], "es");
    assert_eq!(
        got.2["policy"]["messages"]["fitlife.no_repeats"],
        "Como máximo {max} caracteres iguales seguidos."
    );
    assert!(
        got.2["policy"]["messages"]["policy.min_length"]
            .as_str()
            .unwrap()
            .contains("15")
    );
    let got = json_of(
        c.get("/v1/apps/northbank-mobile/password-policy")
            .header("accept-language", "en")
            .send()
            .await,
    )
    .await;
    assert_eq!(got.2["locale"], "en");
    assert_eq!(got.2["policy"]["character_classes"]["min_classes"], 3);
    assert_eq!(got.2["policy"]["script"], Value::Null);
    assert_eq!(
        got.2["policy"]["messages"]["policy.character_classes"],
        "At least 3 of: lowercase letters, uppercase letters, digits, symbols"
    );
    // The class names follow the reader's language; the data keeps the stable names.
    let got = json_of(
        c.get("/v1/apps/northbank-mobile/password-policy?locale=fr")
            .send()
            .await,
    )
    .await;
    assert_eq!(
        got.2["policy"]["messages"]["policy.character_classes"],
        "Au moins 3 types parmi : minuscules, majuscules, chiffres, symboles"
    );
    assert_eq!(
        got.2["policy"]["character_classes"]["classes"],
        serde_json::json!(["lowercase", "uppercase", "digit", "symbol"])
    );
    let got = json_of(
        c.get("/v1/apps/does-not-exist/password-policy")
            .send()
            .await,
    )
    .await;
    assert_problem(&got, 404, "unknown-client");
}

#[tokio::test]
async fn the_policy_endpoint_serves_a_browser_pattern_with_the_servers_matches() {
    let h = Harness::new(BASE).await;
    let c = TestClient::new(app(h.state.clone())).default_header("host", common::HOST);
    let got = json_of(c.get("/v1/apps/acme-shop-ios/password-policy").send().await).await;
    assert_eq!(got.0, 200, "{:?}", got.2);
    let rule = &got.2["policy"]["regex_rules"][0];
    assert_eq!(rule["name"], "no_shop_name");
    assert_eq!(rule["pattern"], "(?i)acme");
    // `(?i)` is not JavaScript: the served form spells the case folding out.
    let browser = rule["browser_pattern"].as_str().unwrap();
    assert!(!browser.contains("(?i"), "{browser}");
    assert!(
        browser.contains("[Aa]") && browser.contains("[Ee]"),
        "{browser}"
    );
}

/// The `code`s of a check answer's violations.
fn violation_codes(got: &(u16, String, Value)) -> Vec<String> {
    got.2["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_check_endpoint_answers_every_rule_and_consumes_nothing() {
    let h = Harness::new(BASE).await;
    let c = TestClient::new(app(h.state.clone())).default_header("host", common::HOST);
    let body = json!({"client_id": "acme-shop-ios", "email": "ada@example.com", "locale": "en"});
    let got = post_json(&c, "/v1/password-resets", &body.to_string()).await;
    assert_eq!(got.0, 202, "{:?}", got.2);
    let token = mailed_token(&h).await;
    let check = format!("/v1/password-resets/{token}/check");
    let ask = |password: &str| json!({ "password": password }).to_string();

    // The rules a page cannot run itself: blocklist and strength, personal information.
    let got = post_json(&c, &check, &ask("password1234")).await;
    assert_eq!(got.0, 200, "{:?}", got.2);
    assert_eq!(got.2["met"], false);
    let codes = violation_codes(&got);
    assert!(codes.contains(&"blocklist".to_owned()), "{codes:?}");
    assert!(codes.contains(&"strength".to_owned()), "{codes:?}");
    let blocked = &got.2["violations"].as_array().unwrap()
        [codes.iter().position(|c| c == "blocklist").unwrap()];
    assert_eq!(blocked["message_key"], "policy.blocklist");
    assert!(blocked["message"].as_str().is_some_and(|m| !m.is_empty()));
    let got = post_json(&c, &check, &ask("acme2024xyz!")).await;
    assert!(violation_codes(&got).contains(&"regex:no_shop_name".to_owned()));
    let got = post_json(&c, &check, &ask("ada@example.com violet kestrel")).await;
    assert!(
        violation_codes(&got).contains(&"personal_info".to_owned()),
        "{:?}",
        got.2
    );
    let got = post_json(&c, &check, &ask(PASSWORD)).await;
    assert_eq!(got.0, 200, "{:?}", got.2);
    assert_eq!(got.2["met"], true, "{:?}", got.2);
    assert_eq!(got.2["violations"], json!([]));

    // Nothing was consumed or counted against the link: it still reads and completes.
    assert_eq!(h.password_patches(), 0);
    let read = json_of(c.get(format!("/v1/password-resets/{token}")).send().await).await;
    assert_eq!(read.0, 200, "{:?}", read.2);
    let good = json!({"password": PASSWORD, "password_confirmation": PASSWORD});
    let done = post_json(
        &c,
        &format!("/v1/password-resets/{token}/complete"),
        &good.to_string(),
    )
    .await;
    assert_eq!(done.0, 200, "{:?}", done.2);
    // A used link answers no more checks.
    let got = post_json(&c, &check, &ask(PASSWORD)).await;
    assert_problem(&got, 410, "invalid-link");
    let got = post_json(&c, "/v1/password-resets/not-a-token/check", &ask(PASSWORD)).await;
    assert_problem(&got, 410, "invalid-link");
}

#[tokio::test]
async fn the_check_endpoint_is_limited_per_link() {
    let h = Harness::new(BASE).await;
    let c = TestClient::new(app(h.state.clone())).default_header("host", common::HOST);
    let body = json!({"client_id": "acme-shop-ios", "email": "ada@example.com", "locale": "en"});
    post_json(&c, "/v1/password-resets", &body.to_string()).await;
    let token = mailed_token(&h).await;
    let check = format!("/v1/password-resets/{token}/check");
    let ask = json!({ "password": "x" }).to_string();
    let limit = passgate_engine::live_check::CHECKS_PER_TOKEN_PER_HOUR;
    for _ in 0..limit {
        let got = post_json(&c, &check, &ask).await;
        assert_eq!(got.0, 200, "{:?}", got.2);
    }
    let got = post_json(&c, &check, &ask).await;
    assert_problem(&got, 429, "throttled");
    // The completion budget of the link is its own: the link still sets a password.
    let good = json!({"password": PASSWORD, "password_confirmation": PASSWORD});
    let done = post_json(
        &c,
        &format!("/v1/password-resets/{token}/complete"),
        &good.to_string(),
    )
    .await;
    assert_eq!(done.0, 200, "{:?}", done.2);
}

#[tokio::test]
async fn the_openapi_document_describes_every_operation() {
    let h = Harness::new(BASE).await;
    let c = TestClient::new(app(h.state.clone())).default_header("host", common::HOST);
    let got = json_of(c.get("/v1/openapi.json").send().await).await;
    assert_eq!(got.0, 200);
    let paths = got.2["paths"].as_object().unwrap();
    for path in [
        "/password-resets",
        "/password-resets/{token}",
        "/password-resets/{token}/complete",
        "/apps/{client_id}/password-policy",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing: {:?}",
            paths.keys()
        );
    }
    let complete = &paths["/password-resets/{token}/complete"]["post"]["responses"];
    assert!(complete["422"]["content"]["application/problem+json"].is_object());
    // Snapshot: API changes show up in review.
    let snapshot = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots/public-openapi.json");
    let pretty = serde_json::to_string_pretty(&got.2).unwrap() + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() || !snapshot.exists() {
        std::fs::create_dir_all(snapshot.parent().unwrap()).unwrap();
        std::fs::write(&snapshot, &pretty).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(&snapshot).unwrap(),
        pretty,
        "run with UPDATE_SNAPSHOTS=1 and review the diff"
    );
}
