//! The Janrain client against the simulator: the emailed-code reset and its error paths.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may panic

use crate::common;

use std::time::Duration;

use common::*;
use passgate_idp::{IdentityProvider, IdpError, JanrainClient};
use passgate_idp_sim::{Fault, FaultKind, SimHandle, sha256_hex};
use secrecy::SecretString;

async fn emailed_code(sim: &SimHandle, client: &JanrainClient) -> SecretString {
    client.send_reset_email("Jan@Example.com").await.unwrap();
    let mail = sim.mailbox().pop().unwrap();
    assert_eq!(mail.to, "jan@example.com");
    let code = mail.code.unwrap();
    assert_eq!(mail.link, format!("{REDIRECT_URI}?code={code}"));
    SecretString::from(code)
}

#[tokio::test]
async fn the_full_reset_sets_the_password() {
    let sim = sim().await;
    let client = janrain(&sim);
    let code = emailed_code(&sim, &client).await;
    let authorization = client.redeem_reset_code(&code).await.unwrap();
    assert_eq!(authorization.expires_in, Duration::from_secs(3600));
    client
        .set_password_with_authorization(&authorization, &secret("Blue-Harbour-Lamp-42"))
        .await
        .unwrap();
    let user = sim.user("jan@example.com").unwrap();
    assert_eq!(
        user.password_sha256,
        Some(sha256_hex("Blue-Harbour-Lamp-42"))
    );
    assert!(user.last_password_reset.is_some());

    let calls = sim.calls();
    let forgot = &calls[0];
    assert_eq!(forgot.path, "/janrain/oauth/forgot_password_native");
    assert_eq!(forgot.params["form"], "forgotPasswordForm");
    assert_eq!(forgot.params["signInEmailAddress"], "Jan@Example.com");
    assert_eq!(forgot.params["redirect_uri"], REDIRECT_URI);
    let token = &calls[1];
    assert!(
        token.authorized,
        "the code exchange authenticates the client"
    );
    assert_eq!(token.params["grant_type"], "authorization_code");
    assert_eq!(token.params["redirect_uri"], REDIRECT_URI);
    let update = &calls[2];
    assert_eq!(update.params["form"], "changePasswordFormNoAuth");
    assert_eq!(
        update.password_sha256,
        Some(sha256_hex("Blue-Harbour-Lamp-42"))
    );
    assert_eq!(
        update.params["newPasswordConfirm"],
        format!("sha256:{}", sha256_hex("Blue-Harbour-Lamp-42"))
    );
    assert!(
        calls
            .iter()
            .all(|c| c.content_type.as_deref() == Some("application/x-www-form-urlencoded"))
    );
}

#[tokio::test]
async fn unknown_accounts_are_reported() {
    let sim = sim().await;
    let err = janrain(&sim)
        .send_reset_email("nobody@example.com")
        .await
        .unwrap_err();
    assert!(matches!(err, IdpError::NoSuchAccount), "{err:?}");
    assert!(sim.mailbox().is_empty());
}

#[tokio::test]
async fn codes_are_single_use_and_expire() {
    let sim = sim().await;
    let client = janrain(&sim);
    let bogus = client
        .redeem_reset_code(&secret("not-a-code"))
        .await
        .unwrap_err();
    assert!(matches!(bogus, IdpError::InvalidCode), "{bogus:?}");

    let code = emailed_code(&sim, &client).await;
    client.redeem_reset_code(&code).await.unwrap();
    let reused = client.redeem_reset_code(&code).await.unwrap_err();
    assert!(matches!(reused, IdpError::InvalidCode), "{reused:?}");

    let code = emailed_code(&sim, &client).await;
    sim.advance_clock(Duration::from_secs(901));
    let expired = client.redeem_reset_code(&code).await.unwrap_err();
    assert!(matches!(expired, IdpError::ExpiredCode), "{expired:?}");
    assert!(expired.is_definite_failure());
}

#[tokio::test]
async fn the_code_exchange_needs_the_same_client_and_redirect_uri() {
    let sim = sim().await;
    let client = janrain(&sim);
    let code = emailed_code(&sim, &client).await;

    let mut wrong_secret = janrain_config(&sim);
    wrong_secret.client_secret = secret("wrong");
    let err = JanrainClient::new(wrong_secret)
        .unwrap()
        .redeem_reset_code(&code)
        .await
        .unwrap_err();
    assert!(matches!(err, IdpError::Unauthorized { .. }), "{err:?}");

    let mut other_redirect = janrain_config(&sim);
    other_redirect.redirect_uri = "https://app.example.com/other".into();
    let err = JanrainClient::new(other_redirect)
        .unwrap()
        .redeem_reset_code(&code)
        .await
        .unwrap_err();
    match err {
        IdpError::BadRequest { code, .. } => assert!(code.starts_with("420"), "{code}"),
        other => panic!("expected a 420 BadRequest, got {other:?}"),
    }
}

#[tokio::test]
async fn password_problems_are_policy_rejections() {
    let sim = sim().await;
    let client = janrain(&sim);
    let code = emailed_code(&sim, &client).await;
    let authorization = client.redeem_reset_code(&code).await.unwrap();

    let err = client
        .set_password_with_authorization(&authorization, &secret("short"))
        .await
        .unwrap_err();
    match &err {
        IdpError::PasswordRejected { fields } => {
            assert!(
                fields[0].starts_with("newPassword: Password must be at least 8"),
                "{fields:?}"
            )
        }
        other => panic!("expected PasswordRejected, got {other:?}"),
    }
    assert!(err.is_policy_rejection());

    // Password history (size 2): the current password cannot be reused.
    let err = client
        .set_password_with_authorization(&authorization, &secret("Initial-Passw0rd"))
        .await
        .unwrap_err();
    assert!(matches!(err, IdpError::PasswordHistory), "{err:?}");

    sim.advance_clock(Duration::from_secs(3601));
    let err = client
        .set_password_with_authorization(&authorization, &secret("Blue-Harbour-Lamp-42"))
        .await
        .unwrap_err();
    assert!(matches!(err, IdpError::ExpiredToken), "{err:?}");
    assert_eq!(sim.user("jan@example.com").unwrap().password_changes, 0);
}

#[tokio::test]
async fn the_concurrency_limit_is_retried_then_reported() {
    let sim = sim().await;
    let client = janrain(&sim);
    let fault = |times| Fault {
        method: None,
        path: Some("/janrain/oauth/forgot_password_native".into()),
        times,
        kind: FaultKind::JanrainError { code: 510 },
    };
    sim.add_fault(fault(Some(1)));
    client.send_reset_email("jan@example.com").await.unwrap();
    assert_eq!(sim.mailbox().len(), 1);

    sim.add_fault(fault(None));
    let err = client
        .send_reset_email("jan@example.com")
        .await
        .unwrap_err();
    assert!(matches!(err, IdpError::Overloaded { code: 510 }), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(
        count_calls(&sim, "POST", "/janrain/oauth/forgot_password_native"),
        2 + 3
    );
}

#[tokio::test]
async fn janrain_has_no_user_lookup_or_tickets() {
    let sim = sim().await;
    let client = janrain(&sim);
    assert!(!client.capabilities().find_user);
    let err = client
        .find_user_by_email("jan@example.com")
        .await
        .unwrap_err();
    assert!(matches!(err, IdpError::Unsupported { .. }));
    assert!(sim.calls().is_empty());
}
