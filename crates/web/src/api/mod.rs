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
//! Every error is `application/problem+json` ([`crate::problem`]); JSON bodies with a
//! repeated key are refused before parsing ([`crate::strict::json`]), string fields take
//! JSON strings only ([`crate::strict::Text`]), and arrays where one value is expected
//! fail the schema.
//!
//! # Layout
//! - [`resets`]: the password-reset resource; [`policy`]: the app policy resource.
//! - [`serialized_json`]: a JSON answer serialized once, served as bytes.

pub mod policy;
pub mod resets;
pub mod serialized_json;

use poem::{Endpoint, EndpointExt, Route};
use poem_openapi::{OpenApiService, Tags};

use crate::problem::{Code, Problem, is_problem};
use crate::state::AppState;
use crate::strict;

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
        .around(move |next, req| strict::json::guard(limit, next, req))
        .catch_all_error(|err| async move {
            let resp = err.into_response();
            if is_problem(&resp) {
                resp
            } else {
                Problem::new(Code::from_status(resp.status())).into_response()
            }
        })
}
