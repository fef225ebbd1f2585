//! RFC 9457 problem documents: the ONE place where engine and request errors become HTTP
//! statuses, stable `type` URIs and titles. Internal `Display` texts never reach a client.

use std::collections::BTreeMap;

use passgate_engine::{CompleteError, InvalidLink, RequestError};
use passgate_policy::Violation;
use passgate_theme::Messages;
use poem::{IntoResponse, Response, http::StatusCode};
use poem_openapi::{ApiResponse, Object, payload::Json};

/// Prefix of every problem `type` (a URN: stable, and not tied to a host name).
pub const TYPE_PREFIX: &str = "urn:passgate:problem:";

/// One broken password rule.
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct ViolationView {
    /// Stable code: `min_length`, `character_classes`, `regex:<name>`, `script:<key>`, …
    pub code: String,
    /// Message key in the theme and tenant catalogs.
    pub message_key: String,
    /// Placeholder values of the message.
    pub params: BTreeMap<String, String>,
    /// The localized text.
    pub message: String,
}

impl ViolationView {
    /// The view of `violation`, localized with `messages` when given (English otherwise).
    pub fn new(violation: &Violation, messages: Option<&Messages>) -> Self {
        Self {
            code: violation.code(),
            message_key: violation.message_key(),
            params: violation.params().into_iter().collect(),
            message: messages.map_or_else(
                || violation.english(),
                |m| crate::policy_view::violation_text(m, violation),
            ),
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct Problem {
    /// Stable machine-readable type, `urn:passgate:problem:<slug>`.
    #[oai(rename = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    /// Short human-readable summary of the type.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// Per-rule violations (`password-policy` only).
    #[oai(skip_serializing_if_is_none)]
    pub violations: Option<Vec<ViolationView>>,
}

/// Every problem the public API answers with.
#[derive(Debug, Clone)]
pub enum ProblemKind {
    /// The body or a parameter is malformed (wrong type, missing field, unknown field).
    InvalidRequest,
    /// A field appears twice in the JSON body.
    DuplicateField,
    /// The body is larger than allowed.
    TooLarge,
    /// No active app has this client id.
    UnknownClient,
    /// The `redirect_uri` is not in the app's allowlist.
    RedirectNotAllowed,
    /// The link, code or token cannot be used (one answer for every reason).
    InvalidLink,
    /// Password and confirmation differ.
    Mismatch,
    /// The password breaks the tenant's rules.
    PasswordPolicy(Vec<ViolationView>),
    /// The password was used recently.
    PasswordReused,
    /// The identity provider refused the password by its own policy.
    ProviderRejected,
    /// Too many attempts.
    Throttled,
    /// Temporarily unavailable; nothing changed.
    Unavailable,
    /// The provider did not confirm the change; the link is spent.
    Unconfirmed,
    /// No such route.
    NotFound,
    /// Wrong method, content type, or anything else the framework refuses.
    Other(StatusCode),
}

impl ProblemKind {
    /// Status, slug and title.
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Self::InvalidRequest => (
                StatusCode::BAD_REQUEST,
                "invalid-request",
                "The request is malformed",
            ),
            Self::DuplicateField => (
                StatusCode::BAD_REQUEST,
                "duplicate-field",
                "A field appears more than once",
            ),
            Self::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "The request body is too large",
            ),
            Self::UnknownClient => (
                StatusCode::NOT_FOUND,
                "unknown-client",
                "No app has this client id",
            ),
            Self::RedirectNotAllowed => (
                StatusCode::BAD_REQUEST,
                "redirect-not-allowed",
                "The redirect URI is not allowed for this app",
            ),
            Self::InvalidLink => (
                StatusCode::GONE,
                "invalid-link",
                "The reset link or code is invalid or has expired",
            ),
            Self::Mismatch => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "password-mismatch",
                "The password and its confirmation differ",
            ),
            Self::PasswordPolicy(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "password-policy",
                "The password does not meet the rules",
            ),
            Self::PasswordReused => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "password-reused",
                "The password was used recently",
            ),
            Self::ProviderRejected => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "provider-rejected",
                "The identity provider refused the password",
            ),
            Self::Throttled => (
                StatusCode::TOO_MANY_REQUESTS,
                "throttled",
                "Too many attempts; try again later",
            ),
            Self::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Temporarily unavailable; try again later",
            ),
            Self::Unconfirmed => (
                StatusCode::BAD_GATEWAY,
                "unconfirmed",
                "The password change could not be confirmed",
            ),
            Self::NotFound => (StatusCode::NOT_FOUND, "not-found", "No such resource"),
            Self::Other(status) => (*status, "http-error", "The request was refused"),
        }
    }

    /// The problem document.
    pub fn problem(self) -> Problem {
        let (status, slug, title) = self.parts();
        let slug = match (&self, status) {
            (Self::Other(_), StatusCode::METHOD_NOT_ALLOWED) => "method-not-allowed",
            (Self::Other(_), StatusCode::UNSUPPORTED_MEDIA_TYPE) => "unsupported-media-type",
            _ => slug,
        };
        Problem {
            kind: format!("{TYPE_PREFIX}{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            violations: match self {
                Self::PasswordPolicy(v) => Some(v),
                _ => None,
            },
        }
    }

    /// The kind for a framework error status (parse errors, unknown routes, …).
    pub fn from_status(status: StatusCode) -> Self {
        match status {
            StatusCode::BAD_REQUEST => Self::InvalidRequest,
            StatusCode::NOT_FOUND => Self::NotFound,
            StatusCode::PAYLOAD_TOO_LARGE => Self::TooLarge,
            other => Self::Other(other),
        }
    }
}

impl From<RequestError> for ProblemKind {
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

impl From<InvalidLink> for ProblemKind {
    fn from(_: InvalidLink) -> Self {
        Self::InvalidLink
    }
}

impl ProblemKind {
    /// The kind for a completion failure; `messages` localizes violations.
    pub fn from_complete(err: CompleteError, messages: Option<&Messages>) -> Self {
        match err {
            CompleteError::InvalidLink(_) => Self::InvalidLink,
            CompleteError::Mismatch => Self::Mismatch,
            CompleteError::PolicyViolations(v) => {
                Self::PasswordPolicy(v.iter().map(|v| ViolationView::new(v, messages)).collect())
            }
            CompleteError::PasswordReused { .. } => Self::PasswordReused,
            CompleteError::ProviderRejected { .. } => Self::ProviderRejected,
            CompleteError::TryAgainLater => Self::Unavailable,
            CompleteError::Unconfirmed { .. } => Self::Unconfirmed,
            CompleteError::Throttled => Self::Throttled,
        }
    }
}

/// The problem responses of the public API (`application/problem+json`).
#[derive(Debug, ApiResponse)]
pub enum ApiProblem {
    /// Malformed request, duplicated field, or disallowed redirect URI.
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Problem>),
    /// Unknown client id or route.
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Problem>),
    /// The link, code or token cannot be used.
    #[oai(status = 410, content_type = "application/problem+json")]
    Gone(Json<Problem>),
    /// Body too large.
    #[oai(status = 413, content_type = "application/problem+json")]
    TooLarge(Json<Problem>),
    /// The password was refused (mismatch, policy, reuse, provider policy).
    #[oai(status = 422, content_type = "application/problem+json")]
    Unprocessable(Json<Problem>),
    /// Too many attempts.
    #[oai(status = 429, content_type = "application/problem+json")]
    TooManyRequests(Json<Problem>),
    /// The provider did not confirm the change.
    #[oai(status = 502, content_type = "application/problem+json")]
    BadGateway(Json<Problem>),
    /// Temporarily unavailable.
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(Json<Problem>),
}

impl From<ProblemKind> for ApiProblem {
    fn from(kind: ProblemKind) -> Self {
        let problem = kind.problem();
        let body = Json(problem.clone());
        match problem.status {
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

/// A problem as a plain response (for errors raised outside operations).
pub fn response(kind: ProblemKind) -> Response {
    let problem = kind.problem();
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    Response::builder()
        .status(status)
        .content_type("application/problem+json")
        .body(body)
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use passgate_engine::EngineError;

    /// The status of the plain response, which must be problem+json.
    fn response_status(kind: ProblemKind) -> u16 {
        let resp = response(kind);
        assert_eq!(
            resp.headers().get("content-type").unwrap(),
            "application/problem+json"
        );
        resp.status().as_u16()
    }

    #[test]
    fn every_engine_outcome_has_one_status_and_type() {
        let table: Vec<(ProblemKind, u16, &str)> = vec![
            (RequestError::UnknownClient.into(), 404, "unknown-client"),
            (
                RequestError::RedirectNotAllowed.into(),
                400,
                "redirect-not-allowed",
            ),
            (
                RequestError::Unavailable(EngineError::TenantUnavailable("x".into())).into(),
                503,
                "unavailable",
            ),
            (InvalidLink.into(), 410, "invalid-link"),
            (
                ProblemKind::from_complete(CompleteError::InvalidLink(InvalidLink), None),
                410,
                "invalid-link",
            ),
            (
                ProblemKind::from_complete(CompleteError::Mismatch, None),
                422,
                "password-mismatch",
            ),
            (
                ProblemKind::from_complete(
                    CompleteError::PolicyViolations(vec![Violation::TooShort { min: 12 }]),
                    None,
                ),
                422,
                "password-policy",
            ),
            (
                ProblemKind::from_complete(CompleteError::PasswordReused { depth: 3 }, None),
                422,
                "password-reused",
            ),
            (
                ProblemKind::from_complete(
                    CompleteError::ProviderRejected {
                        message_key: "provider.password_history",
                    },
                    None,
                ),
                422,
                "provider-rejected",
            ),
            (
                ProblemKind::from_complete(CompleteError::TryAgainLater, None),
                503,
                "unavailable",
            ),
            (
                ProblemKind::from_complete(CompleteError::Throttled, None),
                429,
                "throttled",
            ),
            (
                ProblemKind::from_complete(
                    CompleteError::Unconfirmed {
                        likely_applied: true,
                    },
                    None,
                ),
                502,
                "unconfirmed",
            ),
            (ProblemKind::InvalidRequest, 400, "invalid-request"),
            (ProblemKind::DuplicateField, 400, "duplicate-field"),
            (ProblemKind::TooLarge, 413, "too-large"),
            (ProblemKind::NotFound, 404, "not-found"),
            (
                ProblemKind::from_status(StatusCode::METHOD_NOT_ALLOWED),
                405,
                "method-not-allowed",
            ),
            (
                ProblemKind::from_status(StatusCode::UNSUPPORTED_MEDIA_TYPE),
                415,
                "unsupported-media-type",
            ),
        ];
        for (kind, status, slug) in table {
            assert_eq!(response_status(kind.clone()), status, "{kind:?}");
            let problem = kind.clone().problem();
            assert_eq!(problem.status, status, "{kind:?}");
            assert_eq!(problem.kind, format!("{TYPE_PREFIX}{slug}"), "{kind:?}");
            // The typed answer of an operation carries the same status (framework-only
            // statuses never come from an operation).
            if !matches!(kind, ProblemKind::Other(_)) {
                let resp = poem::IntoResponse::into_response(ApiProblem::from(kind));
                assert_eq!(resp.status().as_u16(), status);
            }
        }
    }

    #[test]
    fn violations_carry_code_key_params_and_text() {
        let kind = ProblemKind::from_complete(
            CompleteError::PolicyViolations(vec![
                Violation::TooShort { min: 12 },
                Violation::Script {
                    key: "acme.no_sequence".into(),
                    params: vec![],
                },
            ]),
            None,
        );
        let problem = kind.problem();
        let violations = problem.violations.unwrap();
        assert_eq!(violations[0].code, "min_length");
        assert_eq!(violations[0].message_key, "policy.min_length");
        assert_eq!(
            violations[0].params.get("min").map(String::as_str),
            Some("12")
        );
        assert_eq!(violations[0].message, "Use at least 12 characters.");
        assert_eq!(violations[1].code, "script:acme.no_sequence");
    }

    #[test]
    fn internal_error_text_never_reaches_the_document() {
        let kind: ProblemKind =
            RequestError::Unavailable(EngineError::TenantUnavailable("db password=hunter2".into()))
                .into();
        let text = serde_json::to_string(&kind.problem()).unwrap();
        assert!(!text.contains("hunter2"));
    }
}
