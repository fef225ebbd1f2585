use passgate_engine::{CompleteError, EngineError, InvalidLink, RequestError};
use passgate_policy::Violation;
use poem::IntoResponse;
use poem::http::StatusCode;
use serde_json::Value;

use super::*;

/// Every code, so a table test cannot forget one.
const ALL: &[Code] = &[
    Code::InvalidRequest,
    Code::DuplicateField,
    Code::TooLarge,
    Code::NotFound,
    Code::MethodNotAllowed,
    Code::UnsupportedMediaType,
    Code::Unavailable,
    Code::Internal,
    Code::UnknownClient,
    Code::RedirectNotAllowed,
    Code::InvalidLink,
    Code::PasswordMismatch,
    Code::PasswordPolicy,
    Code::PasswordReused,
    Code::ProviderRejected,
    Code::Throttled,
    Code::Unconfirmed,
    Code::Unauthorized,
    Code::Forbidden,
    Code::TenantExists,
    Code::ClientIdTaken,
    Code::VersionConflict,
    Code::IfMatchRequired,
    Code::InvalidConfig,
    Code::InvalidTenantId,
    Code::InvalidClientId,
    Code::InvalidScope,
    Code::InvalidEmail,
    Code::InvalidSenderDomain,
    Code::TooManyGrants,
    Code::ProviderDomainRefused,
    Code::ProviderBindingInvalid,
    Code::ModeProviderMismatch,
    Code::UnsupportedLocale,
    Code::RecipientNotAllowed,
    Code::CannotRevokeOwnKey,
    Code::RenderFailed,
    Code::MailFailed,
    Code::ChecksBusy,
    Code::RateLimited,
];

async fn body_of(resp: Response) -> (StatusCode, String, Value) {
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = resp.into_body().into_string().await.unwrap();
    (status, ct, serde_json::from_str(&text).unwrap())
}

#[test]
fn one_slug_per_meaning() {
    let mut slugs: Vec<&str> = ALL.iter().map(|c| c.slug()).collect();
    slugs.sort_unstable();
    let before = slugs.len();
    slugs.dedup();
    assert_eq!(slugs.len(), before, "two codes share a slug");
    // The slugs both APIs used to spell differently.
    assert_eq!(
        Code::from_status(StatusCode::BAD_REQUEST).slug(),
        "invalid-request"
    );
    assert_eq!(
        Code::from_status(StatusCode::PAYLOAD_TOO_LARGE).slug(),
        "too-large"
    );
}

#[tokio::test]
async fn every_code_is_the_same_document_on_every_surface() {
    // Codes only `/v1` and the pages answer with, and 405 (only ever raised by routing).
    let not_admin = [
        Code::MethodNotAllowed,
        Code::UnknownClient,
        Code::RedirectNotAllowed,
        Code::InvalidLink,
        Code::PasswordMismatch,
        Code::PasswordPolicy,
        Code::PasswordReused,
        Code::ProviderRejected,
        Code::Throttled,
        Code::Unconfirmed,
    ];
    for &code in ALL.iter().filter(|c| !not_admin.contains(c)) {
        let plain = body_of(Problem::new(code).into_response()).await;
        let admin = body_of(AdminProblem::from(code).into_response()).await;
        assert_eq!(plain.0, code.status(), "{code:?}");
        assert_eq!(
            admin.0,
            code.status(),
            "{code:?}: the admin variant has another status"
        );
        for (_, ct, doc) in [&plain, &admin] {
            assert_eq!(ct, PROBLEM_JSON, "{code:?}");
            assert_eq!(doc["type"], format!("{TYPE_PREFIX}{}", code.slug()));
            assert_eq!(doc["code"], code.slug());
            assert_eq!(doc["title"], code.title());
            assert_eq!(doc["status"], code.status().as_u16());
        }
        assert_eq!(plain.2, admin.2, "{code:?}");
    }
}

#[tokio::test]
async fn public_answers_keep_the_status_of_their_code() {
    let public = [
        Code::InvalidRequest,
        Code::DuplicateField,
        Code::RedirectNotAllowed,
        Code::UnknownClient,
        Code::NotFound,
        Code::InvalidLink,
        Code::TooLarge,
        Code::PasswordMismatch,
        Code::PasswordPolicy,
        Code::PasswordReused,
        Code::ProviderRejected,
        Code::Throttled,
        Code::Unconfirmed,
        Code::Unavailable,
    ];
    for code in public {
        let (status, _, doc) = body_of(PublicProblem::from(code).into_response()).await;
        assert_eq!(status, code.status(), "{code:?}");
        assert_eq!(doc["code"], code.slug());
    }
}

#[test]
fn every_engine_outcome_has_one_code() {
    let table: Vec<(Code, Code)> = vec![
        (RequestError::UnknownClient.into(), Code::UnknownClient),
        (
            RequestError::RedirectNotAllowed.into(),
            Code::RedirectNotAllowed,
        ),
        (
            RequestError::Unavailable(EngineError::TenantUnavailable("x".into())).into(),
            Code::Unavailable,
        ),
        (InvalidLink.into(), Code::InvalidLink),
        (
            (&CompleteError::InvalidLink(InvalidLink)).into(),
            Code::InvalidLink,
        ),
        ((&CompleteError::Mismatch).into(), Code::PasswordMismatch),
        (
            (&CompleteError::PolicyViolations(vec![Violation::TooShort { min: 12 }])).into(),
            Code::PasswordPolicy,
        ),
        (
            (&CompleteError::PasswordReused { depth: 3 }).into(),
            Code::PasswordReused,
        ),
        (
            (&CompleteError::ProviderRejected {
                message_key: "provider.password_history",
            })
                .into(),
            Code::ProviderRejected,
        ),
        ((&CompleteError::TryAgainLater).into(), Code::Unavailable),
        ((&CompleteError::Throttled).into(), Code::Throttled),
        (
            (&CompleteError::Unconfirmed {
                likely_applied: true,
            })
                .into(),
            Code::Unconfirmed,
        ),
    ];
    for (got, want) in table {
        assert_eq!(got, want);
    }
    let statuses = [
        (Code::UnknownClient, 404),
        (Code::RedirectNotAllowed, 400),
        (Code::InvalidLink, 410),
        (Code::PasswordMismatch, 422),
        (Code::Throttled, 429),
        (Code::Unconfirmed, 502),
        (Code::Unavailable, 503),
    ];
    for (code, status) in statuses {
        assert_eq!(code.status().as_u16(), status, "{code:?}");
    }
}

#[tokio::test]
async fn framework_statuses_keep_their_status() {
    for (status, slug) in [
        (StatusCode::BAD_REQUEST, "invalid-request"),
        (StatusCode::UNAUTHORIZED, "unauthorized"),
        (StatusCode::NOT_FOUND, "not-found"),
        (StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed"),
        (StatusCode::PAYLOAD_TOO_LARGE, "too-large"),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type"),
        (StatusCode::NOT_ACCEPTABLE, "http-error"),
        (StatusCode::GATEWAY_TIMEOUT, "http-error"),
    ] {
        let (got, _, doc) = body_of(Problem::new(Code::from_status(status)).into_response()).await;
        assert_eq!(got, status);
        assert_eq!(doc["code"], slug, "{status}");
    }
}

#[tokio::test]
async fn retry_after_is_a_header_not_a_field() {
    let problem = Code::RateLimited.detail("slow down").retry_after(0);
    let resp = AdminProblem::from(problem.clone()).into_response();
    assert_eq!(resp.headers().get("retry-after").unwrap(), "1");
    let plain = problem.into_response();
    assert_eq!(plain.headers().get("retry-after").unwrap(), "1");
    let (_, _, doc) = body_of(plain).await;
    assert!(doc.get("retry_after").is_none(), "{doc}");
    assert_eq!(doc["detail"], "slow down");
}

#[test]
fn violations_carry_code_key_params_and_text() {
    let problem = public::completion(
        &CompleteError::PolicyViolations(vec![
            Violation::TooShort { min: 12 },
            Violation::Script {
                key: "acme.no_sequence".into(),
                params: vec![],
            },
        ]),
        None,
    );
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

#[tokio::test]
async fn internal_error_text_never_reaches_the_document() {
    let code: Code =
        RequestError::Unavailable(EngineError::TenantUnavailable("db password=hunter2".into()))
            .into();
    let (_, _, doc) = body_of(Problem::new(code).into_response()).await;
    assert!(!doc.to_string().contains("hunter2"));
    let admin = AdminProblem::from(AdminError::Sealing("key=hunter2".into()));
    let (status, _, doc) = body_of(admin.into_response()).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!doc.to_string().contains("hunter2"));
}
