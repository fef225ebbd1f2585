//! Swagger UI at `/admin/docs`, self-hosted: poem-openapi's bundled script and stylesheet
//! are served as files of their own under `/admin/docs/`, the page loads them and the
//! spec from `/admin/openapi.json`, and it runs under [`ADMIN_DOCS_CSP`] — `'self'`
//! scripts and styles only (no inline code, so no nonce to leak into a cached page) and
//! `connect-src 'self'` for "Try it out". Every other response keeps the strict page CSP.

use std::sync::Arc;

use poem::{
    Endpoint, Response, Route,
    endpoint::make_sync,
    http::{StatusCode, header},
};

use crate::security::headers::ADMIN_DOCS_CSP;

/// The page: no inline script or style, everything from `/admin/docs/` and the spec URL.
const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>Passgate admin API</title>
<link rel="stylesheet" href="/admin/docs/swagger-ui.css">
</head>
<body>
<main id="ui"></main>
<script src="/admin/docs/swagger-ui-bundle.js"></script>
<script src="/admin/docs/init.js"></script>
</body>
</html>
"#;

/// Starts Swagger UI on the spec the gateway serves (same origin, `connect-src 'self'`).
const INIT_JS: &str = "SwaggerUIBundle({ dom_id: '#ui', url: '/admin/openapi.json', \
     filter: false, deepLinking: true, tryItOutEnabled: false });\n";

/// The text between `open` and the next `close` in `html`.
fn between<'a>(html: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = html.find(open)? + open.len();
    let len = html[start..].find(close)?;
    Some(&html[start..start + len])
}

/// Swagger UI's script and stylesheet, taken once from poem-openapi's self-contained page
/// (the crate embeds them; it does not export them as files).
#[derive(Debug, Clone)]
pub(crate) struct SwaggerAssets {
    pub(crate) script: Arc<str>,
    pub(crate) style: Arc<str>,
}

impl SwaggerAssets {
    /// Splits poem-openapi's page; `None` if its shape changed (the docs are then off and a
    /// test fails).
    pub(crate) fn from_page(html: &str) -> Option<Self> {
        let style = between(html, r#"<style charset="UTF-8">"#, "</style>")?;
        let script = between(html, r#"<script charset="UTF-8">"#, "</script>")?;
        (script.contains("SwaggerUIBundle") && !style.is_empty()).then(|| Self {
            script: script.into(),
            style: style.into(),
        })
    }
}

/// A response with `body`, `content_type` and caching for an hour (the files change only
/// with a release, but their URLs carry no version).
fn file(content_type: &'static str, body: Arc<str>) -> Response {
    Response::builder()
        .content_type(content_type)
        .header(header::CACHE_CONTROL, "public, max-age=3600")
        .body(body.to_string())
}

/// The `/docs` routes: the page, its script, its stylesheet and the start script.
pub(crate) fn routes(assets: Option<SwaggerAssets>) -> impl Endpoint {
    let Some(assets) = assets else {
        return Route::new().at(
            "/",
            make_sync(|_| {
                Response::builder()
                    .status(StatusCode::NOT_FOUND)
                    .content_type("text/plain; charset=utf-8")
                    .body("Swagger UI is unavailable in this build\n")
            }),
        );
    };
    let SwaggerAssets { script, style } = assets;
    Route::new()
        .at(
            "/",
            make_sync(|_| {
                Response::builder()
                    .content_type("text/html; charset=utf-8")
                    .header(header::CONTENT_SECURITY_POLICY, ADMIN_DOCS_CSP)
                    .body(PAGE)
            }),
        )
        .at(
            "/swagger-ui-bundle.js",
            make_sync(move |_| file("text/javascript; charset=utf-8", Arc::clone(&script))),
        )
        .at(
            "/swagger-ui.css",
            make_sync(move |_| file("text/css; charset=utf-8", Arc::clone(&style))),
        )
        .at(
            "/init.js",
            make_sync(|_| file("text/javascript; charset=utf-8", Arc::from(INIT_JS))),
        )
}
