//! Errors as RFC 9457 `application/problem+json`, with a stable machine `code` and a `type`
//! URN per kind, so clients branch on the code and never on prose. [`AdminError`] names the
//! causes; [`ApiProblem`] is the one place they become HTTP (statuses documented in the
//! OpenAPI spec). Internal `Display` text (database errors) never reaches a client.

use passgate_store::StoreError;
use poem::http::StatusCode;
use poem_openapi::{ApiResponse, Object, payload::Json};

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Object)]
pub struct ProblemDetails {
    /// Stable problem type, `urn:passgate:problem:<code>`.
    #[oai(rename = "type")]
    pub problem_type: String,
    /// Short, human summary of the problem type (the same for every occurrence).
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence, for humans; never contains secrets.
    #[oai(skip_serializing_if_is_none)]
    pub detail: Option<String>,
    /// Stable machine code (the last segment of `type`).
    pub code: String,
    /// Every problem of a rejected tenant document (422 `invalid-config` only).
    #[oai(default, skip_serializing_if_is_empty)]
    pub errors: Vec<ConfigProblem>,
}

/// One problem in a tenant YAML document.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct ConfigProblem {
    /// Key path, e.g. `password_policy.regex_rules[1].pattern`; empty for the whole document.
    pub path: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What is wrong, in one sentence a product owner understands.
    pub message: String,
    /// `error` (the document is rejected) or `warning`.
    pub severity: String,
}

impl ConfigProblem {
    /// The API view of a tenant crate problem.
    pub fn from_problem(p: &passgate_tenant::Problem) -> Self {
        Self {
            path: p.path.clone(),
            line: u32::try_from(p.line).unwrap_or(u32::MAX),
            column: u32::try_from(p.column).unwrap_or(u32::MAX),
            message: p.message.clone(),
            severity: match p.severity {
                passgate_tenant::Severity::Error => "error".into(),
                passgate_tenant::Severity::Warning => "warning".into(),
            },
        }
    }
}

/// Every error response of the admin API. Each variant is one HTTP status with a
/// problem+json body.
#[derive(Debug, ApiResponse)]
pub enum ApiProblem {
    /// The request is malformed: unparsable JSON, an unknown field, a bad parameter.
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Box<ProblemDetails>>),
    /// No API key, or an unknown or revoked one.
    #[oai(status = 401, content_type = "application/problem+json")]
    Unauthorized(Json<Box<ProblemDetails>>),
    /// The key is valid but its role or tenant scope does not allow this.
    #[oai(status = 403, content_type = "application/problem+json")]
    Forbidden(Json<Box<ProblemDetails>>),
    /// No such tenant, version, client id or key.
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Box<ProblemDetails>>),
    /// The request conflicts with existing state (tenant id or client id taken).
    #[oai(status = 409, content_type = "application/problem+json")]
    Conflict(Json<Box<ProblemDetails>>),
    /// `If-Match` names a version that is no longer the active one.
    #[oai(status = 412, content_type = "application/problem+json")]
    PreconditionFailed(Json<Box<ProblemDetails>>),
    /// The body's content type is not the one this operation accepts.
    #[oai(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Json<Box<ProblemDetails>>),
    /// The tenant document (or another value) is invalid; `errors` lists every problem.
    #[oai(status = 422, content_type = "application/problem+json")]
    Unprocessable(Json<Box<ProblemDetails>>),
    /// A write needs `If-Match` with the active version (from `ETag`).
    #[oai(status = 428, content_type = "application/problem+json")]
    PreconditionRequired(Json<Box<ProblemDetails>>),
    /// Too many requests: this API key's per-minute budget (all requests, or the expensive
    /// validate/write/activate/preview/test-email ones) or the tenant's test emails per
    /// hour; retry after `Retry-After` seconds.
    #[oai(status = 429, content_type = "application/problem+json")]
    TooManyRequests(
        Json<Box<ProblemDetails>>,
        /// Seconds until the budget refills.
        #[oai(header = "Retry-After")]
        Option<String>,
    ),
    /// An internal failure; the detail is generic and the cause is logged.
    #[oai(status = 500, content_type = "application/problem+json")]
    Internal(Json<Box<ProblemDetails>>),
    /// A dependency (e.g. the mail server) is unavailable, or every document check slot is
    /// busy (`Retry-After` then says when to try again).
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(
        Json<Box<ProblemDetails>>,
        /// Seconds after which a retry may succeed.
        #[oai(header = "Retry-After")]
        Option<String>,
    ),
}

impl ApiProblem {
    /// A problem of `status` with machine `code`, fixed `title` and an optional `detail`.
    pub fn new(status: StatusCode, code: &str, title: &str, detail: Option<String>) -> Self {
        let body = Json(Box::new(ProblemDetails {
            problem_type: format!("urn:passgate:problem:{code}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            code: code.to_owned(),
            errors: Vec::new(),
        }));
        match status.as_u16() {
            400 => Self::BadRequest(body),
            401 => Self::Unauthorized(body),
            403 => Self::Forbidden(body),
            404 => Self::NotFound(body),
            409 => Self::Conflict(body),
            412 => Self::PreconditionFailed(body),
            415 => Self::UnsupportedMediaType(body),
            422 => Self::Unprocessable(body),
            428 => Self::PreconditionRequired(body),
            429 => Self::TooManyRequests(body, None),
            503 => Self::Unavailable(body, None),
            _ => Self::Internal(body),
        }
    }

    /// A 429 or 503 problem that tells the client to retry after `seconds` (at least 1).
    pub fn retry_later(
        status: StatusCode,
        code: &str,
        title: &str,
        detail: String,
        seconds: u64,
    ) -> Self {
        let after = Some(seconds.max(1).to_string());
        match Self::new(status, code, title, Some(detail)) {
            Self::TooManyRequests(body, _) => Self::TooManyRequests(body, after),
            Self::Unavailable(body, _) => Self::Unavailable(body, after),
            other => other,
        }
    }

    /// 401 `unauthorized`.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication required",
            Some("send `Authorization: Bearer pgk_…` with a valid, unrevoked API key".into()),
        )
    }

    /// 403 `forbidden`.
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Not allowed",
            Some("this API key's role or tenant scope does not allow this operation".into()),
        )
    }

    /// 404 `not-found` for `what`.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            Some(format!("no such {what}")),
        )
    }

    /// 400 `bad-request` with a detail.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "Malformed request",
            Some(detail.into()),
        )
    }

    /// 422 `invalid-config` listing every problem of a rejected tenant document.
    pub fn invalid_config(problems: Vec<ConfigProblem>) -> Self {
        let count = problems.iter().filter(|p| p.severity == "error").count();
        let mut problem = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-config",
            "The tenant configuration is invalid",
            Some(format!(
                "{count} problem(s); nothing was changed and the active version still serves"
            )),
        );
        if let Self::Unprocessable(body) = &mut problem {
            body.0.errors = problems;
        }
        problem
    }

    /// 500 `internal`: logs the cause, tells the client nothing about it.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(target: "passgate::admin", error = %cause, "admin API internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            Some("the request could not be completed; the cause was logged".into()),
        )
    }

    /// The HTTP status of this problem.
    pub fn status(&self) -> StatusCode {
        let body = match self {
            Self::BadRequest(b)
            | Self::Unauthorized(b)
            | Self::Forbidden(b)
            | Self::NotFound(b)
            | Self::Conflict(b)
            | Self::PreconditionFailed(b)
            | Self::UnsupportedMediaType(b)
            | Self::Unprocessable(b)
            | Self::PreconditionRequired(b)
            | Self::TooManyRequests(b, _)
            | Self::Internal(b)
            | Self::Unavailable(b, _) => b,
        };
        StatusCode::from_u16(body.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// Why an admin operation failed, by cause. Converted to [`ApiProblem`] in one place.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The store failed or refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Sealing the provider secret failed.
    #[error("sealing failed: {0}")]
    Sealing(String),
    /// The OS random source failed while minting an API key.
    #[error("the random source failed")]
    Random,
    /// A theme could not render a preview.
    #[error("render failed: {0}")]
    Render(String),
    /// The mail server refused or could not be reached.
    #[error("mail not sent: {0}")]
    Mail(String),
}

impl From<AdminError> for ApiProblem {
    fn from(err: AdminError) -> Self {
        match err {
            AdminError::Store(StoreError::TenantExists(id)) => Self::new(
                StatusCode::CONFLICT,
                "tenant-exists",
                "Tenant already exists",
                Some(format!("a tenant with id `{id}` already exists")),
            ),
            AdminError::Store(StoreError::DuplicateClientId { client_id, .. }) => Self::new(
                StatusCode::CONFLICT,
                "client-id-taken",
                "Client id already registered",
                // The owner is another tenant: do not name it to someone who may not see it.
                Some(format!("client id `{client_id}` is already registered")),
            ),
            AdminError::Store(StoreError::UnknownTenant(_)) => Self::not_found("tenant"),
            AdminError::Store(StoreError::UnknownVersion { version, .. }) => {
                Self::not_found(&format!("config version {version}"))
            }
            AdminError::Store(StoreError::NotFound { what }) => Self::not_found(what),
            AdminError::Render(detail) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "render-failed",
                "The preview could not be rendered",
                Some(detail),
            ),
            AdminError::Mail(detail) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "mail-failed",
                "The test email was not sent",
                Some(detail),
            ),
            other => Self::internal(&other),
        }
    }
}

impl From<StoreError> for ApiProblem {
    fn from(err: StoreError) -> Self {
        AdminError::Store(err).into()
    }
}

/// The problem document for an error poem or poem-openapi raised before a handler ran (bad
/// JSON, wrong content type, unknown route, missing credentials), keeping its status.
pub fn details_for_status(status: StatusCode, detail: Option<String>) -> ProblemDetails {
    let (code, title) = match status.as_u16() {
        400 => ("bad-request", "Malformed request"),
        401 => ("unauthorized", "Authentication required"),
        403 => ("forbidden", "Not allowed"),
        404 => ("not-found", "Not found"),
        405 => ("method-not-allowed", "Method not allowed"),
        413 => ("payload-too-large", "Request body too large"),
        415 => ("unsupported-media-type", "Unsupported content type"),
        _ if status.is_server_error() => ("internal", "Internal error"),
        _ => ("error", "Request failed"),
    };
    let detail = match status.as_u16() {
        401 => Some("send `Authorization: Bearer pgk_…` with a valid, unrevoked API key".into()),
        _ if status.is_server_error() => None,
        _ => detail,
    };
    ProblemDetails {
        problem_type: format!("urn:passgate:problem:{code}"),
        title: title.to_owned(),
        status: status.as_u16(),
        detail,
        code: code.to_owned(),
        errors: Vec::new(),
    }
}
