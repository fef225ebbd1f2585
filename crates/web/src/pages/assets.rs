//! Theme static files: `GET /static/{version}/{theme}/{path}` from memory, with the right
//! content type and a year of caching (the version segment changes with every release).

use poem::{
    Response, handler,
    http::{StatusCode, header},
    web::{Data, Path},
};

use crate::{
    security::headers::WORKER_CSP,
    state::{ASSET_VERSION, AppState},
};

/// Serves one asset of `theme` (falling back to `default`'s file).
#[handler]
pub fn serve(
    Path((version, theme, path)): Path<(String, String, String)>,
    Data(state): Data<&AppState>,
) -> Response {
    let asset = (version == ASSET_VERSION && !path.contains(".."))
        .then(|| state.themes.asset(&theme, &path))
        .flatten();
    match asset {
        Some(asset) => Response::builder()
            .content_type(asset.content_type)
            .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable")
            // A worker's policy comes from its own response: the rule worker may compile the
            // tenant's rule and reach nothing. Harmless for every other file.
            .header(header::CONTENT_SECURITY_POLICY, WORKER_CSP)
            .body(asset.bytes.clone()),
        None => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .content_type("text/plain; charset=utf-8")
            .body("not found\n"),
    }
}
