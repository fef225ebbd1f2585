//! `POST /reset/confirm/check`: the hosted page's twin of `POST /v1/password-resets/{token}/check`,
//! bound to the reset cookie instead of a token in the path (the page never sees the token).
//! The page's script posts `{"password": …}` debounced while the user types and shows each
//! server-only rule (strength, blocklist, personal information) as met or unmet. Same
//! engine call: consumes nothing, stores and logs nothing, limited per reset. Link and
//! code-mode credentials are checked (Janrain codes only on submit); any other answer
//! leaves the rules to the submit.

use poem::{Body, Request, Response, handler, http::StatusCode, web::Data};
use secrecy::SecretString;
use serde::Deserialize;

use super::{confirm, held::Held};
use crate::{problem::ViolationView, state::AppState};

/// The body the page posts.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Candidate {
    /// The candidate password; neither stored nor logged.
    password: String,
}

/// The longest candidate accepted (the API's limit).
const MAX_CANDIDATE_CHARS: usize = 1024;

/// A bare status answer (the page then keeps "checked when you submit").
fn status(code: StatusCode) -> Response {
    Response::builder().status(code).finish()
}

/// Checks the candidate against the held link's policy: `200 {met, violations}` in the
/// link's locale, `410` without a usable link, `429` past the per-link limit.
#[handler]
pub async fn check(req: &Request, body: Body, Data(state): Data<&AppState>) -> Response {
    let is_json = req
        .content_type()
        .is_some_and(|ct| ct.starts_with("application/json"));
    if !is_json {
        return status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
    let Ok(bytes) = body.into_bytes_limit(state.settings.max_body_bytes).await else {
        return status(StatusCode::PAYLOAD_TOO_LARGE);
    };
    let Ok(candidate) = serde_json::from_slice::<Candidate>(&bytes) else {
        return status(StatusCode::BAD_REQUEST);
    };
    if candidate.password.chars().count() > MAX_CANDIDATE_CHARS {
        return status(StatusCode::BAD_REQUEST);
    }
    let Some(held) = Held::from_request(req) else {
        return status(StatusCode::GONE);
    };
    let Ok(Some(messages)) = confirm::held_messages(state, req, &held).await else {
        return status(StatusCode::GONE);
    };
    let password = SecretString::from(candidate.password);
    let checked = match &held {
        Held::Link { t: token, .. } => state.backend.check_password(token, &password).await,
        Held::Code { f, d, .. } => state.backend.check_code_password(f, d, &password).await,
        _ => return status(StatusCode::GONE),
    };
    match checked {
        Ok(violations) => {
            let views: Vec<ViolationView> = violations
                .iter()
                .map(|v| ViolationView::new(v, Some(&messages)))
                .collect();
            let answer = serde_json::json!({ "met": views.is_empty(), "violations": views });
            Response::builder()
                .content_type("application/json")
                .body(answer.to_string())
        }
        Err(passgate_engine::PasswordCheckError::InvalidLink(_)) => status(StatusCode::GONE),
        Err(passgate_engine::PasswordCheckError::Throttled) => {
            status(StatusCode::TOO_MANY_REQUESTS)
        }
        Err(passgate_engine::PasswordCheckError::TryAgainLater) => {
            status(StatusCode::SERVICE_UNAVAILABLE)
        }
    }
}
