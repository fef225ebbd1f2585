//! The console's script and stylesheet, embedded in the binary (no Node at run time): a
//! small hand-written editor (textarea, highlighted overlay, line-number gutter) and the
//! screens' logic. Sources live in `crates/web/console/`. Also the tenant JSON Schema, which
//! the editor completes keys and explains them from.

use poem::{
    Response, handler,
    http::{StatusCode, header},
    web::Path,
};

/// One embedded file: name, content type, bytes.
const FILES: &[(&str, &str, &str)] = &[
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/console.js"),
    ),
    (
        "console.css",
        "text/css; charset=utf-8",
        include_str!("../../console/console.css"),
    ),
];

/// A version segment for URLs, so a new build is never served a cached old file.
pub(crate) const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The URL of asset `name`.
pub(crate) fn url(name: &str) -> String {
    format!("{}/assets/{name}?v={VERSION}", super::BASE)
}

/// The tenant JSON Schema, for the editor's completion and key help.
const SCHEMA: &str = "tenant.schema.json";

/// `GET /console/assets/{name}`.
#[handler]
pub fn serve(Path(name): Path<String>) -> Response {
    if name == SCHEMA {
        return Response::builder()
            .content_type("application/schema+json")
            .header(header::CACHE_CONTROL, "public, max-age=3600")
            .body(passgate_tenant::json_schema_string());
    }
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, body)) => Response::builder()
            .content_type(*content_type)
            .header(header::CACHE_CONTROL, "public, max-age=3600")
            .body(*body),
        None => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .content_type("text/plain; charset=utf-8")
            .body("not found\n"),
    }
}
