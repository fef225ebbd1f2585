//! The admin API's problem answers ([`AdminProblem`], statuses documented in its OpenAPI
//! spec) and the causes of admin failures ([`AdminError`]), mapped to [`Code`]s here only.

use passgate_store::StoreError;
use poem_openapi::{ApiResponse, payload::Json};

use super::{Code, ConfigProblem, Problem};

/// Every error response of the admin API. Each variant is one HTTP status with a
/// problem+json body.
#[derive(Debug, ApiResponse)]
pub enum AdminProblem {
    /// The request is malformed: unparsable JSON, a repeated or unknown field, a bad parameter.
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Box<Problem>>),
    /// No API key, or an unknown or revoked one.
    #[oai(status = 401, content_type = "application/problem+json")]
    Unauthorized(Json<Box<Problem>>),
    /// The key is valid but its role or tenant scope does not allow this.
    #[oai(status = 403, content_type = "application/problem+json")]
    Forbidden(Json<Box<Problem>>),
    /// No such tenant, version, client id or key.
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Box<Problem>>),
    /// The request conflicts with existing state (tenant id or client id taken).
    #[oai(status = 409, content_type = "application/problem+json")]
    Conflict(Json<Box<Problem>>),
    /// `If-Match` names a version that is no longer the active one.
    #[oai(status = 412, content_type = "application/problem+json")]
    PreconditionFailed(Json<Box<Problem>>),
    /// The body is larger than allowed (1 MiB; a tenant document 512 KiB).
    #[oai(status = 413, content_type = "application/problem+json")]
    TooLarge(Json<Box<Problem>>),
    /// The body's content type is not the one this operation accepts.
    #[oai(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Json<Box<Problem>>),
    /// The tenant document (or another value) is invalid; `errors` lists every problem.
    #[oai(status = 422, content_type = "application/problem+json")]
    Unprocessable(Json<Box<Problem>>),
    /// A write needs `If-Match` with the active version (from `ETag`).
    #[oai(status = 428, content_type = "application/problem+json")]
    PreconditionRequired(Json<Box<Problem>>),
    /// Too many requests: this API key's per-minute budget (all requests, or the expensive
    /// validate/write/activate/preview/test-email ones) or the tenant's test emails per
    /// hour; retry after `Retry-After` seconds.
    #[oai(status = 429, content_type = "application/problem+json")]
    TooManyRequests(
        Json<Box<Problem>>,
        /// Seconds until the budget refills.
        #[oai(header = "Retry-After")]
        Option<String>,
    ),
    /// An internal failure; the detail is generic and the cause is logged.
    #[oai(status = 500, content_type = "application/problem+json")]
    Internal(Json<Box<Problem>>),
    /// A dependency (e.g. the mail server) is unavailable, or every document check slot is
    /// busy (`Retry-After` then says when to try again).
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(
        Json<Box<Problem>>,
        /// Seconds after which a retry may succeed.
        #[oai(header = "Retry-After")]
        Option<String>,
    ),
}

impl From<Problem> for AdminProblem {
    fn from(problem: Problem) -> Self {
        let status = problem.status;
        let after = problem.retry_after.map(|s| s.to_string());
        let body = Json(Box::new(problem));
        match status {
            400 => Self::BadRequest(body),
            401 => Self::Unauthorized(body),
            403 => Self::Forbidden(body),
            404 => Self::NotFound(body),
            409 => Self::Conflict(body),
            412 => Self::PreconditionFailed(body),
            413 => Self::TooLarge(body),
            415 => Self::UnsupportedMediaType(body),
            422 => Self::Unprocessable(body),
            428 => Self::PreconditionRequired(body),
            429 => Self::TooManyRequests(body, after),
            503 => Self::Unavailable(body, after),
            _ => Self::Internal(body),
        }
    }
}

impl From<Code> for AdminProblem {
    fn from(code: Code) -> Self {
        Problem::new(code).into()
    }
}

/// What a 401 says to do.
pub const UNAUTHORIZED_DETAIL: &str =
    "send `Authorization: Bearer pgk_…` with a valid, unrevoked API key";

impl AdminProblem {
    /// 401 `unauthorized`.
    pub fn unauthorized() -> Self {
        Code::Unauthorized.detail(UNAUTHORIZED_DETAIL).into()
    }

    /// 403 `forbidden`.
    pub fn forbidden() -> Self {
        Code::Forbidden
            .detail("this API key's role or tenant scope does not allow this operation")
            .into()
    }

    /// 404 `not-found` for `what`.
    pub fn not_found(what: &str) -> Self {
        Code::NotFound.detail(format!("no such {what}")).into()
    }

    /// 400 `invalid-request` with a detail.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Code::InvalidRequest.detail(detail).into()
    }

    /// 422 `invalid-config` listing every problem of a rejected tenant document.
    pub fn invalid_config(problems: Vec<ConfigProblem>) -> Self {
        let count = problems.iter().filter(|p| p.severity == "error").count();
        let mut problem = Code::InvalidConfig.detail(format!(
            "{count} problem(s); nothing was changed and the active version still serves"
        ));
        problem.errors = problems;
        problem.into()
    }

    /// 500 `internal`: logs the cause, tells the client nothing about it.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(target: "passgate::admin", error = %cause, "admin API internal error");
        Code::Internal
            .detail("the request could not be completed; the cause was logged")
            .into()
    }

    /// The problem document.
    fn body(&self) -> &Problem {
        match self {
            Self::BadRequest(b)
            | Self::Unauthorized(b)
            | Self::Forbidden(b)
            | Self::NotFound(b)
            | Self::Conflict(b)
            | Self::PreconditionFailed(b)
            | Self::TooLarge(b)
            | Self::UnsupportedMediaType(b)
            | Self::Unprocessable(b)
            | Self::PreconditionRequired(b)
            | Self::TooManyRequests(b, _)
            | Self::Internal(b)
            | Self::Unavailable(b, _) => &b.0,
        }
    }

    /// The HTTP status of this problem.
    pub fn status(&self) -> poem::http::StatusCode {
        self.body().status()
    }

    /// The machine code of this problem.
    pub fn code(&self) -> &str {
        &self.body().code
    }
}

/// Why an admin operation failed, by cause. Converted to [`AdminProblem`] in one place.
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
    /// A tenant document was refused; every problem (errors and warnings).
    #[error("the tenant document is invalid")]
    InvalidConfig(Vec<ConfigProblem>),
    /// Every document check slot stayed busy; retry after this many seconds.
    #[error("every document check slot is busy")]
    ChecksBusy {
        /// Seconds until a retry may find a free slot.
        retry_after: u64,
    },
    /// The document's reset mode cannot run on the tenant's provider.
    #[error("reset mode does not fit the provider: {0}")]
    ModeMismatch(String),
    /// A move from Janrain cannot be set as asked (the reason names the field).
    #[error("move refused: {0}")]
    InvalidMove(String),
    /// A provider domain is not a known provider domain or an allowed custom domain.
    #[error("provider domain refused")]
    DomainRefused,
    /// A blocking task failed (panicked or was cancelled).
    #[error("blocking task failed: {0}")]
    Task(String),
    /// The named thing (a tenant, a config version) does not exist or is not visible.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A key's tenants do not fit its role.
    #[error("the key's tenants do not fit its role")]
    InvalidScope,
    /// A key asked to revoke itself.
    #[error("a key cannot revoke itself")]
    CannotRevokeOwnKey,
    /// A conditional config write came without `If-Match`.
    #[error("If-Match is required")]
    IfMatchRequired,
    /// Another version is active than the write was based on.
    #[error("version {active} is active")]
    VersionConflict {
        /// The version active now.
        active: u32,
    },
}

impl From<AdminError> for AdminProblem {
    fn from(err: AdminError) -> Self {
        match err {
            AdminError::Store(StoreError::TenantExists(id)) => Code::TenantExists
                .detail(format!("a tenant with id `{id}` already exists"))
                .into(),
            // The owner is another tenant: do not name it to someone who may not see it.
            AdminError::Store(StoreError::DuplicateClientId { client_id, .. }) => {
                Code::ClientIdTaken
                    .detail(format!("client id `{client_id}` is already registered"))
                    .into()
            }
            AdminError::Store(StoreError::UnknownTenant(_)) => Self::not_found("tenant"),
            AdminError::Store(StoreError::UnknownVersion { version, .. }) => {
                Self::not_found(&format!("config version {version}"))
            }
            AdminError::Store(StoreError::NotFound { what }) => Self::not_found(what),
            AdminError::Render(detail) => Code::RenderFailed.detail(detail).into(),
            AdminError::Mail(detail) => Code::MailFailed.detail(detail).into(),
            AdminError::InvalidConfig(problems) => Self::invalid_config(problems),
            AdminError::ModeMismatch(detail) => Code::ModeProviderMismatch.detail(detail).into(),
            AdminError::NotFound(what) => Self::not_found(what),
            AdminError::InvalidMove(detail) => Code::ProviderBindingInvalid.detail(detail).into(),
            AdminError::DomainRefused => Code::ProviderDomainRefused
                .detail("the domain is not a known provider domain or an allowed custom domain")
                .into(),
            AdminError::InvalidScope => Code::InvalidScope
                .detail("a tenant-editor key needs at least one tenant; a platform-admin key none")
                .into(),
            // No lock-out by accident: another admin (or the CLI) revokes this key.
            AdminError::CannotRevokeOwnKey => Code::CannotRevokeOwnKey
                .detail("revoke it with another platform-admin key")
                .into(),
            AdminError::IfMatchRequired => Code::IfMatchRequired
                .detail("send If-Match with the ETag of GET …/config")
                .into(),
            // A conditional write that lost a race is the same 412 as a stale `If-Match`.
            AdminError::VersionConflict { active }
            | AdminError::Store(StoreError::VersionConflict { active, .. }) => {
                Code::VersionConflict
                    .detail(format!(
                        "version {active} is active now; GET the config, merge, and retry with \
                         If-Match: \"{active}\""
                    ))
                    .into()
            }
            AdminError::ChecksBusy { retry_after } => Code::ChecksBusy
                .detail(format!(
                    "other tenant documents are being checked; nothing was changed, retry after \
                     {retry_after} s"
                ))
                .retry_after(retry_after)
                .into(),
            other => Self::internal(&other),
        }
    }
}

impl From<StoreError> for AdminProblem {
    fn from(err: StoreError) -> Self {
        AdminError::Store(err).into()
    }
}
