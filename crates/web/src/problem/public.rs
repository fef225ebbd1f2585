//! The public API's problem answers, and the engine's errors as [`Code`]s (the same codes
//! give the hosted pages their statuses).

use passgate_engine::{CompleteError, InvalidLink, RequestError};
use passgate_theme::Messages;
use poem_openapi::{ApiResponse, payload::Json};

use super::{Code, Problem, ViolationView};

/// The problem responses of the public API (`application/problem+json`).
#[derive(Debug, ApiResponse)]
pub enum PublicProblem {
    /// Malformed request, duplicated field, or disallowed redirect URI.
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Box<Problem>>),
    /// Unknown client id or route.
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Box<Problem>>),
    /// The link, code or token cannot be used.
    #[oai(status = 410, content_type = "application/problem+json")]
    Gone(Json<Box<Problem>>),
    /// Body too large.
    #[oai(status = 413, content_type = "application/problem+json")]
    TooLarge(Json<Box<Problem>>),
    /// The password was refused (mismatch, policy, reuse, provider policy).
    #[oai(status = 422, content_type = "application/problem+json")]
    Unprocessable(Json<Box<Problem>>),
    /// Too many attempts.
    #[oai(status = 429, content_type = "application/problem+json")]
    TooManyRequests(Json<Box<Problem>>),
    /// The provider did not confirm the change.
    #[oai(status = 502, content_type = "application/problem+json")]
    BadGateway(Json<Box<Problem>>),
    /// Temporarily unavailable.
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(Json<Box<Problem>>),
}

impl From<Problem> for PublicProblem {
    fn from(problem: Problem) -> Self {
        let status = problem.status;
        let body = Json(Box::new(problem));
        match status {
            404 => Self::NotFound(body),
            410 => Self::Gone(body),
            413 => Self::TooLarge(body),
            422 => Self::Unprocessable(body),
            429 => Self::TooManyRequests(body),
            502 => Self::BadGateway(body),
            503 => Self::Unavailable(body),
            _ => Self::BadRequest(body),
        }
    }
}

impl From<Code> for PublicProblem {
    fn from(code: Code) -> Self {
        Problem::new(code).into()
    }
}

impl From<RequestError> for Code {
    fn from(err: RequestError) -> Self {
        match err {
            RequestError::UnknownClient => Self::UnknownClient,
            RequestError::RedirectNotAllowed => Self::RedirectNotAllowed,
            RequestError::Unavailable(err) => {
                tracing::error!(error = %err, "reset request not recorded");
                Self::Unavailable
            }
        }
    }
}

impl From<RequestError> for PublicProblem {
    fn from(err: RequestError) -> Self {
        Code::from(err).into()
    }
}

impl From<InvalidLink> for Code {
    fn from(_: InvalidLink) -> Self {
        Self::InvalidLink
    }
}

impl From<InvalidLink> for PublicProblem {
    fn from(err: InvalidLink) -> Self {
        Code::from(err).into()
    }
}

impl From<&CompleteError> for Code {
    fn from(err: &CompleteError) -> Self {
        match err {
            CompleteError::InvalidLink(_) => Self::InvalidLink,
            CompleteError::Mismatch => Self::PasswordMismatch,
            CompleteError::PolicyViolations(_) => Self::PasswordPolicy,
            CompleteError::PasswordReused { .. } => Self::PasswordReused,
            CompleteError::ProviderRejected { .. } => Self::ProviderRejected,
            CompleteError::TryAgainLater => Self::Unavailable,
            CompleteError::Unconfirmed { .. } => Self::Unconfirmed,
            CompleteError::Throttled => Self::Throttled,
        }
    }
}

/// The document of a completion failure; `messages` localizes violations.
pub fn completion(err: &CompleteError, messages: Option<&Messages>) -> Problem {
    let mut problem = Problem::new(Code::from(err));
    if let CompleteError::PolicyViolations(violations) = err {
        problem.violations = Some(
            violations
                .iter()
                .map(|v| ViolationView::new(v, messages))
                .collect(),
        );
    }
    problem
}
