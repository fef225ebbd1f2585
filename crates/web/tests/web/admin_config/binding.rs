//! Provider bindings through the admin API: the production fields round-trip, what the
//! provider client would refuse is refused with a specific 422 and changes nothing, and a
//! reset mode that cannot run on the bound provider is refused on both sides (binding
//! writes and config writes).

#![allow(clippy::panic)]

use serde_json::{Value, json};

use super::admin_common::{Harness, bearer, harness};
use super::{body_json, get_yaml, put_yaml};

async fn patch_provider(h: &Harness, tenant: &str, provider: Value) -> poem::test::TestResponse {
    h.client
        .patch(format!("/admin/v1/tenants/{tenant}"))
        .header("Authorization", bearer(&h.admin))
        .body_json(&json!({ "provider": provider }))
        .send()
        .await
}

async fn provider_view(h: &Harness, tenant: &str) -> Value {
    let resp = h
        .client
        .get(format!("/admin/v1/tenants/{tenant}"))
        .header("Authorization", bearer(&h.admin))
        .send()
        .await;
    resp.assert_status_is_ok();
    body_json(resp).await["provider"].clone()
}

fn production_auth0() -> Value {
    json!({
        "kind": "auth0",
        "domain": "acme.eu.auth0.com",
        "management_client_id": "m2m",
        "connection": "Username-Password-Authentication",
        "custom_domain": "login.acme.com",
        "app_client_id": "acme-web",
        "new_universal_login": true,
        "audience": "https://acme.eu.auth0.com/api/v2/"
    })
}

/// `(code, detail)` of a 422.
async fn refused(resp: poem::test::TestResponse) -> (String, String) {
    resp.assert_status(poem::http::StatusCode::UNPROCESSABLE_ENTITY);
    let problem = body_json(resp).await;
    (
        problem["code"].as_str().unwrap_or_default().to_owned(),
        problem["detail"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn production_binding_fields_round_trip_and_impossible_ones_are_refused() {
    let h = harness().await;
    patch_provider(&h, "alpha", production_auth0())
        .await
        .assert_status_is_ok();
    let view = provider_view(&h, "alpha").await;
    for field in [
        "custom_domain",
        "app_client_id",
        "new_universal_login",
        "audience",
    ] {
        assert_eq!(view[field], production_auth0()[field], "{field}: {view}");
    }
    assert!(view.get("password_recover_url").is_none(), "{view}");

    let mut cases = Vec::new();
    let mut no_app = production_auth0();
    no_app.as_object_mut().unwrap().remove("app_client_id");
    cases.push((no_app, "provider-binding-invalid", "app_client_id"));
    let mut custom_audience = production_auth0();
    custom_audience["audience"] = json!("https://login.acme.com/api/v2/");
    cases.push((custom_audience, "provider-binding-invalid", "custom domain"));
    let mut no_connection = production_auth0();
    no_connection.as_object_mut().unwrap().remove("connection");
    cases.push((no_connection, "provider-binding-invalid", "connection"));
    let mut janrain_field = production_auth0();
    janrain_field["flow_version"] = json!("HEAD");
    cases.push((janrain_field, "provider-binding-invalid", "Janrain"));
    let mut legacy_mode = production_auth0();
    legacy_mode["mode"] = json!("janrain");
    cases.push((legacy_mode, "mode-provider-mismatch", "`janrain`"));
    cases.push((
        json!({"kind": "janrain", "domain": "acme.us.janraincapture.com",
               "management_client_id": "capture", "app_client_id": "x"}),
        "provider-binding-invalid",
        "Auth0 settings",
    ));
    cases.push((
        json!({"kind": "janrain", "domain": "acme.us.janraincapture.com",
               "management_client_id": "capture",
               "password_recover_url": "https://evil.example/steal"}),
        "provider-binding-invalid",
        "password_recover_url",
    ));
    // alpha's YAML runs `hosted`, which Janrain cannot serve.
    cases.push((
        json!({"kind": "janrain", "domain": "acme.us.janraincapture.com",
               "management_client_id": "capture"}),
        "mode-provider-mismatch",
        "`hosted`",
    ));
    for (body, code, names) in cases {
        let (got, detail) = refused(patch_provider(&h, "alpha", body.clone()).await).await;
        assert_eq!(got, code, "{body}: {detail}");
        assert!(detail.contains(names), "{body}: {detail}");
    }
    assert_eq!(
        provider_view(&h, "alpha").await,
        view,
        "refused writes changed nothing"
    );
}

#[tokio::test]
async fn a_mode_that_does_not_fit_the_binding_is_refused_on_config_writes() {
    let h = harness().await;
    patch_provider(&h, "alpha", production_auth0())
        .await
        .assert_status_is_ok();
    let (yaml, etag) = get_yaml(&h).await;
    let janrain = yaml.replace("mode: hosted", "mode: janrain");
    assert_ne!(janrain, yaml, "the default YAML names its mode");
    let resp = put_yaml(&h, &janrain, Some(&etag)).await;
    resp.assert_status(poem::http::StatusCode::UNPROCESSABLE_ENTITY);
    let problem = body_json(resp).await;
    let errors = problem["errors"].as_array().unwrap();
    let mode = errors
        .iter()
        .find(|e| e["path"] == "reset.mode")
        .unwrap_or_else(|| panic!("{problem}"));
    assert!(
        mode["message"].as_str().unwrap().contains("Auth0"),
        "{mode}"
    );
    assert!(mode["line"].as_u64().unwrap() > 1, "positioned: {mode}");
    assert_eq!(get_yaml(&h).await.1, etag, "nothing stored");

    // A fitting mode is accepted.
    let ticket = yaml.replace("mode: hosted", "mode: auth0_ticket");
    put_yaml(&h, &ticket, Some(&etag))
        .await
        .assert_status(poem::http::StatusCode::CREATED);
}

#[tokio::test]
async fn a_janrain_tenant_created_without_a_document_gets_the_janrain_mode() {
    let h = harness().await;
    let resp = h
        .client
        .post("/admin/v1/tenants")
        .header("Authorization", bearer(&h.admin))
        .body_json(&json!({
            "id": "gamma",
            "display_name": "Gamma",
            "client_ids": ["gamma-ios"],
            "provider": {"kind": "janrain", "domain": "gamma.us.janraincapture.com",
                         "management_client_id": "capture", "flow_version": "20190618"}
        }))
        .send()
        .await;
    resp.assert_status(poem::http::StatusCode::CREATED);
    let view = body_json(resp).await["provider"].clone();
    assert_eq!(view["connection"], "standard", "{view}");
    assert_eq!(view["flow_version"], "20190618", "{view}");
    // A document that names a mode Janrain cannot run is refused at creation.
    let resp = h
        .client
        .post("/admin/v1/tenants")
        .header("Authorization", bearer(&h.admin))
        .body_json(&json!({
            "id": "delta",
            "display_name": "Delta",
            "client_ids": ["delta-ios"],
            "provider": {"kind": "janrain", "domain": "delta.us.janraincapture.com",
                         "management_client_id": "capture"},
            "yaml": "id: delta\ndisplay_name: Delta\nclient_ids: [delta-ios]\ntheme: default\n\
                     locales:\n  default: en\n  supported: [en]\nreset:\n  mode: auth0_email\n"
        }))
        .send()
        .await;
    let (code, detail) = refused(resp).await;
    assert_eq!(code, "mode-provider-mismatch", "{detail}");
}
