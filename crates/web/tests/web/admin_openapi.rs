//! The admin API's OpenAPI document is committed (`src/admin/openapi.snapshot.json`), so
//! every API change shows up in review. Update with
//! `UPDATE_SNAPSHOTS=1 cargo test -p passgate-web --test web admin_openapi`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::admin_common;

use std::path::PathBuf;

use admin_common::harness;

fn snapshot_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/admin/openapi.snapshot.json")
}

#[test]
fn the_openapi_document_matches_the_committed_snapshot() {
    let spec = passgate_web::admin::openapi_json();
    let path =
        std::env::var_os("PASSGATE_ADMIN_SNAPSHOT").map_or_else(snapshot_path, PathBuf::from);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, format!("{spec}\n")).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed.trim_end() == spec.trim_end(),
        "the admin OpenAPI document changed; review the change, then update the snapshot with\n  \
         UPDATE_SNAPSHOTS=1 cargo test -p passgate-web --test web admin_openapi\n(snapshot: {})",
        path.display()
    );
}

#[test]
fn every_operation_is_tagged_secured_and_documents_its_errors() {
    let spec: serde_json::Value =
        serde_json::from_str(&passgate_web::admin::openapi_json()).unwrap();
    let mut operations = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let name = format!("{method} {path}");
            assert!(
                !op["tags"].as_array().unwrap().is_empty(),
                "{name} has no tag"
            );
            assert!(
                op["security"].as_array().is_some_and(|s| !s.is_empty()),
                "{name} is not secured"
            );
            let responses = op["responses"].as_object().unwrap();
            for status in ["401", "403", "500"] {
                let media = &responses[status]["content"]["application/problem+json"];
                assert!(
                    media.is_object(),
                    "{name} does not document {status} as problem+json"
                );
            }
        }
    }
    assert!(operations >= 20, "only {operations} operations");
    // No route reads tokens or sets a user's password.
    let paths = spec["paths"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        !paths.contains("password") && !paths.contains("token"),
        "{paths}"
    );
}

#[tokio::test]
async fn the_spec_and_swagger_ui_are_served_and_unknown_routes_are_problems() {
    let h = harness().await;
    let resp = h.client.get("/admin/openapi.json").send().await;
    resp.assert_status_is_ok();
    let served: serde_json::Value =
        serde_json::from_str(&resp.0.into_body().into_string().await.unwrap()).unwrap();
    assert_eq!(served["info"]["title"], "Passgate admin API");
    let resp = h.client.get("/admin/docs").send().await;
    resp.assert_status_is_ok();
    for (method, path) in [
        ("GET", "/admin/v1/nope"),
        ("TRACE", "/admin/v1/tenants"),
        ("PUT", "/admin/v1/audit"),
    ] {
        let resp = h
            .client
            .request(method.parse().unwrap(), path)
            .header("Authorization", admin_common::bearer(&h.admin))
            .send()
            .await;
        let status = resp.0.status().as_u16();
        assert!(status == 404 || status == 405, "{method} {path}: {status}");
        let ct = resp
            .0
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            ct.starts_with("application/problem+json"),
            "{method} {path}: {ct}"
        );
    }
}

#[tokio::test]
async fn swagger_ui_can_be_turned_off() {
    let h = admin_common::harness_with(passgate_web::admin::AdminSettings {
        swagger_ui: false,
        ..Default::default()
    })
    .await;
    h.client
        .get("/admin/docs")
        .send()
        .await
        .assert_status(poem::http::StatusCode::NOT_FOUND);
}

/// The admin routes of `h` behind the gateway's security headers, as served.
fn with_headers(
    h: &admin_common::Harness,
) -> poem::test::TestClient<poem::endpoint::BoxEndpoint<'static>> {
    use poem::EndpointExt as _;
    let settings = std::sync::Arc::new(passgate_web::WebSettings::new("http://localhost"));
    let app = poem::Route::new()
        .nest("/admin", passgate_web::admin::routes(h.state.clone()))
        .around(move |next, req| {
            passgate_web::security::headers::around(std::sync::Arc::clone(&settings), next, req)
        })
        .map_to_response()
        .boxed();
    // The security layer refuses any Host but the public URL's (item 41).
    poem::test::TestClient::new(app).default_header("host", "localhost")
}

fn header(resp: &poem::test::TestResponse, name: &str) -> String {
    resp.0
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn swagger_ui_is_self_hosted_under_a_csp_that_allows_exactly_its_files() {
    let h = harness().await;
    let client = with_headers(&h);
    let resp = client.get("/admin/docs").send().await;
    resp.assert_status_is_ok();
    let csp = header(&resp, "content-security-policy");
    let html = resp.0.into_body().into_string().await.unwrap();
    let directive = |name: &str| {
        csp.split(';')
            .map(str::trim)
            .find(|d| d.starts_with(&format!("{name} ")))
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(directive("script-src"), "script-src 'self'", "{csp}");
    assert_eq!(directive("style-src"), "style-src 'self'", "{csp}");
    assert_eq!(directive("connect-src"), "connect-src 'self'", "{csp}");
    assert_eq!(
        directive("frame-ancestors"),
        "frame-ancestors 'none'",
        "{csp}"
    );
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    // Nothing inline for 'self' to miss: every script is a file, no <style> element.
    assert!(!html.contains("<style"), "{html}");
    let scripts: Vec<&str> = html.split("<script").skip(1).collect();
    assert_eq!(scripts.len(), 2, "{html}");
    let mut files: Vec<(String, &str)> = Vec::new();
    for tag in scripts {
        assert!(
            tag.starts_with(" src=\"/admin/docs/"),
            "inline script: {tag}"
        );
        let src = tag[" src=\"".len()..].split('"').next().unwrap();
        assert!(tag.contains("></script>"), "{tag}");
        files.push((src.to_owned(), "text/javascript; charset=utf-8"));
    }
    let css = html.split("rel=\"stylesheet\" href=\"").nth(1).unwrap();
    files.push((
        css.split('"').next().unwrap().to_owned(),
        "text/css; charset=utf-8",
    ));
    for (path, content_type) in &files {
        let resp = client.get(path).send().await;
        resp.assert_status_is_ok();
        assert_eq!(&header(&resp, "content-type"), content_type, "{path}");
        let body = resp.0.into_body().into_string().await.unwrap();
        assert!(body.len() > 20, "{path}");
    }
    let bundle = client.get("/admin/docs/swagger-ui-bundle.js").send().await;
    let bundle = bundle.0.into_body().into_string().await.unwrap();
    assert!(bundle.contains("SwaggerUIBundle"), "the real bundle");
    let init = client.get("/admin/docs/init.js").send().await;
    let init = init.0.into_body().into_string().await.unwrap();
    assert!(init.contains("'/admin/openapi.json'"), "{init}");
    // Everything else keeps the strict page policy.
    let spec = client.get("/admin/openapi.json").send().await;
    let strict = header(&spec, "content-security-policy");
    assert!(strict.contains("connect-src 'none'"), "{strict}");
    assert!(strict.contains("script-src 'nonce-"), "{strict}");
}
