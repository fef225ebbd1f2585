//! RFC 9457 problem documents for every surface: the public API under `/v1`, the admin API
//! and the statuses of the hosted pages. [`Code`] is the one list of problem types (slug,
//! status, title): no handler mints its own. [`Problem`] is the one document shape. Internal
//! `Display` texts never reach a client.
//!
//! # Layout
//! - this file: [`Code`], [`Problem`], [`ConfigProblem`], [`ViolationView`].
//! - [`public`]: [`PublicProblem`], the documented answers of `/v1`, and the engine's errors
//!   as codes (also the status of a hosted page).
//! - [`admin`]: [`AdminProblem`], the documented answers of the admin API, and
//!   [`AdminError`], the admin causes.

pub mod admin;
pub mod public;

use std::collections::BTreeMap;

use passgate_policy::Violation;
use passgate_theme::Messages;
use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::Object;
use poem_openapi::types::ToJSON;

pub use admin::{AdminError, AdminProblem};
pub use public::PublicProblem;

/// Prefix of every problem `type` (a URN: stable, and not tied to a host name).
pub const TYPE_PREFIX: &str = "urn:passgate:problem:";

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Every problem type Passgate answers with. One meaning, one slug, on every surface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// The body or a parameter is malformed (wrong type, missing or unknown field).
    InvalidRequest,
    /// A field appears twice in a JSON body.
    DuplicateField,
    /// The body is larger than allowed.
    TooLarge,
    /// No such route or resource.
    NotFound,
    /// The route exists, the method does not.
    MethodNotAllowed,
    /// The body's content type is not the one the operation accepts.
    UnsupportedMediaType,
    /// Temporarily unavailable; nothing changed.
    Unavailable,
    /// An internal failure; the cause is logged, never sent.
    Internal,
    /// No active app has this client id.
    UnknownClient,
    /// The `redirect_uri` is not in the app's allowlist.
    RedirectNotAllowed,
    /// The link, code or token cannot be used (one answer for every reason).
    InvalidLink,
    /// Password and confirmation differ.
    PasswordMismatch,
    /// The password breaks the tenant's rules.
    PasswordPolicy,
    /// The password was used recently.
    PasswordReused,
    /// The identity provider refused the password by its own policy.
    ProviderRejected,
    /// Too many attempts at one reset.
    Throttled,
    /// The provider did not confirm the change; the link is spent.
    Unconfirmed,
    /// No API key, or an unknown or revoked one.
    Unauthorized,
    /// The key's role or tenant scope does not allow this.
    Forbidden,
    /// The tenant id is taken.
    TenantExists,
    /// The client id is registered (to any tenant).
    ClientIdTaken,
    /// `If-Match` names a version that is no longer active.
    VersionConflict,
    /// A write needs `If-Match`.
    IfMatchRequired,
    /// The tenant document is invalid (`errors` lists every problem).
    InvalidConfig,
    /// A tenant id that cannot be one.
    InvalidTenantId,
    /// A client id that cannot be one.
    InvalidClientId,
    /// A key scope that does not fit its role.
    InvalidScope,
    /// Not one plain email address.
    InvalidEmail,
    /// Not a plain domain name.
    InvalidSenderDomain,
    /// More grants than allowed.
    TooManyGrants,
    /// The provider domain is neither a known provider domain nor an allowed custom one.
    ProviderDomainRefused,
    /// A provider binding the provider client would refuse (the field is named).
    ProviderBindingInvalid,
    /// The tenant's reset mode cannot run on its provider.
    ModeProviderMismatch,
    /// The tenant does not support this locale.
    UnsupportedLocale,
    /// A test email to an address that is not allowed.
    RecipientNotAllowed,
    /// An API key tried to revoke itself.
    CannotRevokeOwnKey,
    /// A preview did not render.
    RenderFailed,
    /// The test email was not sent.
    MailFailed,
    /// Every document check slot is busy.
    ChecksBusy,
    /// An API key's request budget is spent.
    RateLimited,
    /// A status the framework raised that has no code of its own.
    Http(StatusCode),
}

impl Code {
    /// Status, slug and title.
    fn parts(self) -> (StatusCode, &'static str, &'static str) {
        use StatusCode as S;
        match self {
            Self::InvalidRequest => (
                S::BAD_REQUEST,
                "invalid-request",
                "The request is malformed",
            ),
            Self::DuplicateField => (
                S::BAD_REQUEST,
                "duplicate-field",
                "A field appears more than once",
            ),
            Self::TooLarge => (
                S::PAYLOAD_TOO_LARGE,
                "too-large",
                "The request body is too large",
            ),
            Self::NotFound => (S::NOT_FOUND, "not-found", "No such resource"),
            Self::MethodNotAllowed => (
                S::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            ),
            Self::UnsupportedMediaType => (
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported content type",
            ),
            Self::Unavailable => (
                S::SERVICE_UNAVAILABLE,
                "unavailable",
                "Temporarily unavailable; try again later",
            ),
            Self::Internal => (S::INTERNAL_SERVER_ERROR, "internal", "Internal error"),
            Self::UnknownClient => (S::NOT_FOUND, "unknown-client", "No app has this client id"),
            Self::RedirectNotAllowed => (
                S::BAD_REQUEST,
                "redirect-not-allowed",
                "The redirect URI is not allowed for this app",
            ),
            Self::InvalidLink => (
                S::GONE,
                "invalid-link",
                "The reset link or code is invalid or has expired",
            ),
            Self::PasswordMismatch => (
                S::UNPROCESSABLE_ENTITY,
                "password-mismatch",
                "The password and its confirmation differ",
            ),
            Self::PasswordPolicy => (
                S::UNPROCESSABLE_ENTITY,
                "password-policy",
                "The password does not meet the rules",
            ),
            Self::PasswordReused => (
                S::UNPROCESSABLE_ENTITY,
                "password-reused",
                "The password was used recently",
            ),
            Self::ProviderRejected => (
                S::UNPROCESSABLE_ENTITY,
                "provider-rejected",
                "The identity provider refused the password",
            ),
            Self::Throttled => (
                S::TOO_MANY_REQUESTS,
                "throttled",
                "Too many attempts; try again later",
            ),
            Self::Unconfirmed => (
                S::BAD_GATEWAY,
                "unconfirmed",
                "The password change could not be confirmed",
            ),
            Self::Unauthorized => (S::UNAUTHORIZED, "unauthorized", "Authentication required"),
            Self::Forbidden => (S::FORBIDDEN, "forbidden", "Not allowed"),
            Self::TenantExists => (S::CONFLICT, "tenant-exists", "Tenant already exists"),
            Self::ClientIdTaken => (
                S::CONFLICT,
                "client-id-taken",
                "Client id already registered",
            ),
            Self::VersionConflict => (
                S::PRECONDITION_FAILED,
                "version-conflict",
                "The configuration changed meanwhile",
            ),
            Self::IfMatchRequired => (
                S::PRECONDITION_REQUIRED,
                "if-match-required",
                "If-Match required",
            ),
            Self::InvalidConfig => (
                S::UNPROCESSABLE_ENTITY,
                "invalid-config",
                "The tenant configuration is invalid",
            ),
            Self::InvalidTenantId => (
                S::UNPROCESSABLE_ENTITY,
                "invalid-tenant-id",
                "Invalid tenant id",
            ),
            Self::InvalidClientId => (
                S::UNPROCESSABLE_ENTITY,
                "invalid-client-id",
                "Invalid client id",
            ),
            Self::InvalidScope => (
                S::UNPROCESSABLE_ENTITY,
                "invalid-scope",
                "Invalid key scope",
            ),
            Self::InvalidEmail => (
                S::UNPROCESSABLE_ENTITY,
                "invalid-email",
                "Invalid email address",
            ),
            Self::InvalidSenderDomain => (
                S::UNPROCESSABLE_ENTITY,
                "invalid-sender-domain",
                "Invalid sender domain",
            ),
            Self::TooManyGrants => (
                S::UNPROCESSABLE_ENTITY,
                "too-many-grants",
                "Too many grants",
            ),
            Self::ProviderDomainRefused => (
                S::UNPROCESSABLE_ENTITY,
                "provider-domain-refused",
                "Provider domain not allowed",
            ),
            Self::ProviderBindingInvalid => (
                S::UNPROCESSABLE_ENTITY,
                "provider-binding-invalid",
                "Provider binding cannot work",
            ),
            Self::ModeProviderMismatch => (
                S::UNPROCESSABLE_ENTITY,
                "mode-provider-mismatch",
                "Reset mode does not fit the provider",
            ),
            Self::UnsupportedLocale => (
                S::UNPROCESSABLE_ENTITY,
                "unsupported-locale",
                "Locale not supported",
            ),
            Self::RecipientNotAllowed => (
                S::FORBIDDEN,
                "recipient-not-allowed",
                "Recipient not allowed",
            ),
            Self::CannotRevokeOwnKey => (
                S::CONFLICT,
                "cannot-revoke-own-key",
                "A key cannot revoke itself",
            ),
            Self::RenderFailed => (
                S::UNPROCESSABLE_ENTITY,
                "render-failed",
                "The preview could not be rendered",
            ),
            Self::MailFailed => (
                S::SERVICE_UNAVAILABLE,
                "mail-failed",
                "The test email was not sent",
            ),
            Self::ChecksBusy => (
                S::SERVICE_UNAVAILABLE,
                "checks-busy",
                "Every document check slot is busy",
            ),
            Self::RateLimited => (S::TOO_MANY_REQUESTS, "rate-limited", "Too many requests"),
            Self::Http(status) => (status, "http-error", "The request was refused"),
        }
    }

    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        self.parts().0
    }

    /// The stable slug (the last segment of `type`, and `code`).
    pub fn slug(self) -> &'static str {
        self.parts().1
    }

    /// The fixed human summary of the type.
    pub fn title(self) -> &'static str {
        self.parts().2
    }

    /// The code for a status the framework raised before a handler ran.
    pub fn from_status(status: StatusCode) -> Self {
        match status {
            StatusCode::BAD_REQUEST => Self::InvalidRequest,
            StatusCode::UNAUTHORIZED => Self::Unauthorized,
            StatusCode::FORBIDDEN => Self::Forbidden,
            StatusCode::NOT_FOUND => Self::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => Self::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => Self::TooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::UnsupportedMediaType,
            StatusCode::INTERNAL_SERVER_ERROR => Self::Internal,
            StatusCode::SERVICE_UNAVAILABLE => Self::Unavailable,
            other => Self::Http(other),
        }
    }

    /// The document of this code, with an occurrence-specific `detail`.
    pub fn detail(self, detail: impl Into<String>) -> Problem {
        Problem::new(self).with_detail(detail)
    }
}

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

/// An RFC 9457 problem document, the one shape of every error body.
#[derive(Debug, Clone, Object)]
pub struct Problem {
    /// Stable problem type, `urn:passgate:problem:<code>`.
    #[oai(rename = "type")]
    pub kind: String,
    /// Short human summary of the type (the same for every occurrence).
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong in this occurrence, for humans; never contains secrets.
    #[oai(skip_serializing_if_is_none)]
    pub detail: Option<String>,
    /// Stable machine code (the last segment of `type`).
    pub code: String,
    /// Per-rule violations (`password-policy` only).
    #[oai(skip_serializing_if_is_none)]
    pub violations: Option<Vec<ViolationView>>,
    /// Every problem of a rejected tenant document (`invalid-config` only).
    #[oai(default, skip_serializing_if_is_empty)]
    pub errors: Vec<ConfigProblem>,
    /// Seconds until a retry may succeed (sent as `Retry-After`, not in the body).
    #[oai(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    /// The document of `code`, with no detail.
    pub fn new(code: Code) -> Self {
        Self {
            kind: format!("{TYPE_PREFIX}{}", code.slug()),
            title: code.title().to_owned(),
            status: code.status().as_u16(),
            detail: None,
            code: code.slug().to_owned(),
            violations: None,
            errors: Vec::new(),
            retry_after: None,
        }
    }

    /// With what went wrong in this occurrence.
    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// With `Retry-After: seconds` (at least 1).
    #[must_use]
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The document as a plain response (for errors raised outside operations).
    pub fn into_response(self) -> Response {
        let status = self.status();
        let mut builder = Response::builder()
            .status(status)
            .content_type(PROBLEM_JSON);
        if let Some(seconds) = self.retry_after {
            builder = builder.header("retry-after", seconds.to_string());
        }
        let body = self.to_json().map(|v| v.to_string()).unwrap_or_default();
        builder.body(body).into_response()
    }
}

impl From<Code> for Problem {
    fn from(code: Code) -> Self {
        Self::new(code)
    }
}

/// Whether `response` already carries a problem document.
pub fn is_problem(response: &Response) -> bool {
    response
        .headers()
        .get(poem::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON))
}

#[cfg(test)]
mod tests;
