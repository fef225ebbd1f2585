//! The public JSON API under `/v1`, for native screens: the same engine and rules as the
//! hosted pages. Documented by poem-openapi at `/v1/openapi.json`.
//!
//! | operation | answer |
//! |---|---|
//! | `POST /v1/password-resets` | 202 `{flow_id}` for every account |
//! | `GET /v1/password-resets/{token}` | 200 state + policy, or 410 |
//! | `POST /v1/password-resets/{token}/complete` | 200 `{redirect_uri}` or a problem |
//! | `POST /v1/password-resets/{token}/check` | 200 `{met, violations}`; consumes nothing |
//! | `GET /v1/apps/{client_id}/password-policy` | 200 rules, messages, script |
//!
//! Every error is `application/problem+json` ([`problem`]); JSON bodies with a repeated
//! key are refused before parsing ([`strict_json`]), and arrays where one value is
//! expected fail the schema.
//!
//! # Layout
//! - [`resets`]: the password-reset resource; [`policy`]: the app policy resource.
//! - [`problem`]: problem documents and the one error mapping.
//! - [`strict_json`]: the duplicate-key guard.

pub mod policy;
pub mod problem;
pub mod resets;
pub mod strict_json;

use poem::{Endpoint, EndpointExt, Route, http::header};
use poem_openapi::{OpenApiService, Tags};

use crate::state::AppState;

/// The API's tags.
#[derive(Debug, Tags)]
pub enum ApiTags {
    /// Request and complete password resets.
    PasswordResets,
    /// An app's password rules, for native validation.
    Apps,
}

/// The OpenAPI service (also used to snapshot the document in tests).
pub fn service() -> OpenApiService<(resets::ResetsApi, policy::PolicyApi), ()> {
    OpenApiService::new(
        (resets::ResetsApi, policy::PolicyApi),
        "Passgate public API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Password resets for native screens. Errors are RFC 9457 problem documents with \
         stable `type`s (`urn:passgate:problem:<slug>`) and per-rule violation codes.",
    )
    .server("/v1")
}

/// The `/v1` route tree: operations, `/openapi.json`, and problem+json for every error.
pub fn routes(state: &AppState) -> impl Endpoint + 'static {
    let service = service();
    let spec = service.spec_endpoint();
    let limit = state.settings.max_body_bytes;
    Route::new()
        .at("/openapi.json", spec)
        .nest("/", service)
        .around(move |next, req| strict_json::guard(limit, next, req))
        .catch_all_error(|err| async move {
            let resp = err.into_response();
            let is_problem = resp
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/problem+json"));
            if is_problem {
                resp
            } else {
                problem::response(problem::ProblemKind::from_status(resp.status()))
            }
        })
}
