//! The Auth0 client against the simulator: every success and error path of the contract.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may panic

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use passgate_idp::{Auth0Client, Auth0Config, IdentityProvider, IdpError, TicketRequest};
use passgate_idp_sim::{Fault, FaultKind, sha256_hex};
use secrecy::{ExposeSecret, SecretString};

fn fault(method: &str, path: &str, times: Option<u32>, kind: FaultKind) -> Fault {
    Fault {
        method: Some(method.into()),
        path: Some(path.into()),
        times,
        kind,
    }
}

#[tokio::test]
async fn finds_the_user_only_in_the_tenant_connection() {
    let sim = sim().await;
    let client = auth0(&sim);
    let user = client
        .find_user_by_email(" Jane@Example.com ")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.user_id, JANE_ID);
    assert_eq!(user.email, "jane@example.com");
    assert_eq!(user.connection, CONNECTION);
    assert_eq!(user.name.as_deref(), Some("Jane Doe"));
    assert!(!user.blocked);
    assert!(user.email_verified);
    assert_eq!(user.last_password_reset, None);

    let bob = client
        .find_user_by_email("bob@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(bob.blocked);
    assert!(
        client
            .find_user_by_email("nobody@example.com")
            .await
            .unwrap()
            .is_none()
    );
    // Janrain users and other connections are invisible.
    assert!(
        client
            .find_user_by_email("jan@example.com")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn sets_the_password_with_the_connection_and_an_encoded_id() {
    let sim = sim().await;
    let client = auth0(&sim);
    let password = secret("Blue-Harbour-Lamp-42");
    let updated = client.set_password(JANE_ID, &password).await.unwrap();
    assert_eq!(updated.user_id, JANE_ID);
    assert!(updated.last_password_reset.is_some());

    let state = sim
        .users()
        .into_iter()
        .find(|u| u.user_id == JANE_ID)
        .unwrap();
    assert_eq!(
        state.password_sha256.as_deref(),
        Some(sha256_hex("Blue-Harbour-Lamp-42").as_str())
    );
    assert_eq!(state.password_changes, 1);

    let patch = sim
        .calls()
        .into_iter()
        .find(|c| c.method == "PATCH")
        .unwrap();
    assert_eq!(patch.path, "/api/v2/users/auth0%7C63d17c4bdf1ce171262c7e93");
    assert_eq!(patch.params["connection"], CONNECTION);
    assert_eq!(
        patch.password_sha256,
        Some(sha256_hex("Blue-Harbour-Lamp-42"))
    );
    assert!(patch.content_type.unwrap().starts_with("application/json"));
    assert_eq!(patch.status, 200);
}

#[tokio::test]
async fn revoking_sessions_ends_sessions_and_refresh_tokens_once_each() {
    let sim = sim().await;
    auth0(&sim).revoke_sessions(JANE_ID).await.unwrap();

    let state = sim
        .users()
        .into_iter()
        .find(|u| u.user_id == JANE_ID)
        .unwrap();
    assert_eq!(
        (state.sessions_revoked, state.refresh_tokens_revoked),
        (1, 1)
    );
    let deletes: Vec<(String, u16)> = sim
        .calls()
        .into_iter()
        .filter(|c| c.method == "DELETE")
        .map(|c| (c.path, c.status))
        .collect();
    assert_eq!(
        deletes,
        [
            (
                "/api/v2/users/auth0%7C63d17c4bdf1ce171262c7e93/sessions".to_owned(),
                202
            ),
            (
                "/api/v2/users/auth0%7C63d17c4bdf1ce171262c7e93/refresh-tokens".to_owned(),
                202
            ),
        ]
    );
}

#[tokio::test]
async fn revoking_sessions_without_the_scope_is_forbidden_and_changes_nothing() {
    let sim = sim().await;
    let client = Auth0Client::new(Auth0Config {
        client_id: "read-only".into(),
        client_secret: secret("read-only-secret"),
        ..auth0_config(&sim)
    })
    .unwrap();
    let err = client.revoke_sessions(JANE_ID).await.unwrap_err();
    assert!(matches!(err, IdpError::Forbidden { .. }), "{err:?}");
    let state = sim
        .users()
        .into_iter()
        .find(|u| u.user_id == JANE_ID)
        .unwrap();
    assert_eq!(
        (state.sessions_revoked, state.refresh_tokens_revoked),
        (0, 0)
    );
}

#[tokio::test]
async fn policy_rejections_are_typed() {
    let sim = sim().await;
    let client = auth0(&sim);
    let cases = [
        ("short", "PasswordStrength"),
        ("Password1!", "PasswordDictionary"),
        ("Acme-Corp-2026", "PasswordDictionary"),
        ("Jane-Secure-99", "PasswordNoUserInfo"),
        ("Initial-Passw0rd", "PasswordHistory"),
    ];
    for (password, expected) in cases {
        let err = client
            .set_password(JANE_ID, &secret(password))
            .await
            .unwrap_err();
        assert!(err.is_policy_rejection(), "{password}: {err:?}");
        assert!(err.is_definite_failure());
        assert!(
            format!("{err:?}").starts_with(expected),
            "{password}: {err:?}"
        );
    }
    assert_eq!(sim.user("jane@example.com").unwrap().password_changes, 0);

    // History remembers the previous passwords.
    client
        .set_password(JANE_ID, &secret("First-New-Passw0rd"))
        .await
        .unwrap();
    client
        .set_password(JANE_ID, &secret("Second-New-Passw0rd"))
        .await
        .unwrap();
    let err = client
        .set_password(JANE_ID, &secret("First-New-Passw0rd"))
        .await
        .unwrap_err();
    assert!(matches!(err, IdpError::PasswordHistory));
}

#[tokio::test]
async fn unknown_users_are_not_found() {
    let sim = sim().await;
    let client = auth0(&sim);
    let err = client
        .set_password("auth0|nobody", &secret("Blue-Harbour-Lamp-42"))
        .await;
    assert!(matches!(err, Err(IdpError::NotFound)));
    let ticket = client
        .create_password_change_ticket(&ticket_for("auth0|nobody"))
        .await;
    assert!(matches!(ticket, Err(IdpError::NotFound)));
}

fn ticket_for(user_id: &str) -> TicketRequest {
    TicketRequest {
        user_id: user_id.into(),
        result_url: Some("https://app.example.com/done".into()),
        client_id: None,
        ttl: Some(Duration::from_secs(3600)),
        mark_email_as_verified: true,
    }
}

#[tokio::test]
async fn creates_a_password_change_ticket() {
    let sim = sim().await;
    let client = auth0(&sim);
    let ticket = client
        .create_password_change_ticket(&ticket_for(JANE_ID))
        .await
        .unwrap();
    let url = ticket.url.expose_secret();
    assert!(
        url.starts_with(&format!("{}/u/reset-password?ticket=", sim.base_url)),
        "{url}"
    );
    assert!(!format!("{ticket:?}").contains(url));
    let call = sim
        .calls()
        .into_iter()
        .find(|c| c.path.contains("tickets"))
        .unwrap();
    assert_eq!(call.status, 201);
    assert_eq!(call.params["ttl_sec"], 3600);
    assert_eq!(call.params["result_url"], "https://app.example.com/done");
}

#[tokio::test]
async fn provider_reset_email_is_sent_for_known_users_only_with_the_same_answer() {
    let sim = sim().await;
    let client = auth0(&sim);
    client.send_reset_email("jane@example.com").await.unwrap();
    client.send_reset_email("nobody@example.com").await.unwrap();
    let mails = sim.mailbox();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, "jane@example.com");
    assert_eq!(mails[0].kind, "change_password");
    let call = sim
        .calls()
        .into_iter()
        .find(|c| c.path == "/dbconnections/change_password")
        .unwrap();
    assert_eq!(call.params["client_id"], "sim-client");
    assert_eq!(call.params["connection"], CONNECTION);
}

#[tokio::test]
async fn the_token_is_cached_and_fetched_once_by_concurrent_callers() {
    let sim = sim().await;
    let client = Arc::new(auth0(&sim));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let client = Arc::clone(&client);
        tasks.spawn(async move { client.find_user_by_email("jane@example.com").await });
    }
    while let Some(result) = tasks.join_next().await {
        assert!(result.unwrap().unwrap().is_some());
    }
    client
        .set_password(JANE_ID, &secret("Blue-Harbour-Lamp-42"))
        .await
        .unwrap();
    assert_eq!(count_calls(&sim, "POST", "/oauth/token"), 1);
    assert_eq!(count_calls(&sim, "GET", "/api/v2/users-by-email"), 8);
}

#[tokio::test]
async fn an_expired_token_is_replaced() {
    let sim = sim().await;
    let client = auth0(&sim);
    client.find_user_by_email("jane@example.com").await.unwrap();
    // The provider's clock moves past expiry while ours still trusts the token: the 401
    // drops it and the call is repeated with a fresh one.
    sim.advance_clock(Duration::from_secs(2 * 86_400));
    assert!(
        client
            .find_user_by_email("jane@example.com")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(count_calls(&sim, "POST", "/oauth/token"), 2);
    let statuses: Vec<u16> = sim
        .calls()
        .iter()
        .filter(|c| c.method == "GET")
        .map(|c| c.status)
        .collect();
    assert_eq!(statuses, [200, 401, 200]);
}

#[tokio::test]
async fn bad_credentials_audience_and_scope_are_typed() {
    let sim = sim().await;
    let mut config = auth0_config(&sim);
    config.client_secret = SecretString::from("wrong");
    let err = Auth0Client::new(config)
        .unwrap()
        .find_user_by_email("jane@example.com")
        .await;
    assert!(matches!(err, Err(IdpError::Unauthorized { .. })), "{err:?}");

    let mut config = auth0_config(&sim);
    config.audience = Some("https://elsewhere.example/api/v2/".into());
    let err = Auth0Client::new(config)
        .unwrap()
        .find_user_by_email("jane@example.com")
        .await;
    assert!(matches!(err, Err(IdpError::Forbidden { .. })), "{err:?}");

    let mut config = auth0_config(&sim);
    config.client_id = "read-only".into();
    config.client_secret = SecretString::from("read-only-secret");
    let client = Auth0Client::new(config).unwrap();
    assert!(
        client
            .find_user_by_email("jane@example.com")
            .await
            .unwrap()
            .is_some()
    );
    let err = client
        .set_password(JANE_ID, &secret("Blue-Harbour-Lamp-42"))
        .await
        .unwrap_err();
    match &err {
        IdpError::Forbidden { message } => assert!(message.contains("update:users"), "{message}"),
        other => panic!("expected Forbidden, got {other:?}"),
    }
    assert!(err.is_definite_failure());
}

#[tokio::test]
async fn rate_limits_are_honoured_then_reported() {
    let sim = sim().await;
    let client = auth0(&sim);
    client.find_user_by_email("jane@example.com").await.unwrap();

    // A short Retry-After is waited out, for writes too (the provider did nothing).
    sim.add_fault(fault(
        "PATCH",
        "/api/v2/users/",
        Some(1),
        FaultKind::RateLimit {
            reset_in_secs: 0,
            retry_after_secs: Some(0),
        },
    ));
    client
        .set_password(JANE_ID, &secret("Blue-Harbour-Lamp-42"))
        .await
        .unwrap();
    assert_eq!(count_calls(&sim, "PATCH", "/api/v2/users/"), 2);

    // A reset an hour away is returned at once with the reset time.
    sim.add_fault(fault(
        "GET",
        "/api/v2/users-by-email",
        None,
        FaultKind::RateLimit {
            reset_in_secs: 3600,
            retry_after_secs: None,
        },
    ));
    let err = client
        .find_user_by_email("jane@example.com")
        .await
        .unwrap_err();
    match &err {
        IdpError::RateLimited {
            reset_at: Some(_), ..
        } => {}
        other => panic!("expected RateLimited with reset_at, got {other:?}"),
    }
    assert!(err.is_retryable());
}

#[tokio::test]
async fn server_errors_are_retried_on_reads_but_writes_become_ambiguous() {
    let sim = sim().await;
    let client = auth0(&sim);
    sim.add_fault(fault(
        "GET",
        "/api/v2/users-by-email",
        Some(2),
        FaultKind::Status { status: 503 },
    ));
    assert!(
        client
            .find_user_by_email("jane@example.com")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(count_calls(&sim, "GET", "/api/v2/users-by-email"), 3);

    sim.add_fault(fault(
        "GET",
        "/api/v2/users-by-email",
        None,
        FaultKind::Status { status: 500 },
    ));
    let err = client
        .find_user_by_email("jane@example.com")
        .await
        .unwrap_err();
    assert!(matches!(err, IdpError::Server { status: 500 }));
    assert_eq!(count_calls(&sim, "GET", "/api/v2/users-by-email"), 6);
    sim.clear_faults();

    sim.add_fault(fault(
        "PATCH",
        "/api/v2/users/",
        Some(1),
        FaultKind::Status { status: 500 },
    ));
    let err = client
        .set_password(JANE_ID, &secret("Blue-Harbour-Lamp-42"))
        .await
        .unwrap_err();
    assert!(err.is_ambiguous(), "{err:?}");
    assert_eq!(count_calls(&sim, "PATCH", "/api/v2/users/"), 1);
}

#[tokio::test]
async fn a_write_applied_then_timed_out_is_ambiguous_and_not_repeated() {
    let sim = sim().await;
    let client = auth0(&sim);
    sim.add_fault(fault(
        "PATCH",
        "/api/v2/users/",
        Some(1),
        FaultKind::ApplyThenDelay { ms: 6000 },
    ));
    let err = client
        .set_password(JANE_ID, &secret("Blue-Harbour-Lamp-42"))
        .await
        .unwrap_err();
    assert!(err.is_ambiguous(), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(count_calls(&sim, "PATCH", "/api/v2/users/"), 1);
    // It was applied: the engine can see that through last_password_reset.
    let user = client
        .find_user_by_email("jane@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(user.last_password_reset.is_some());
}

#[tokio::test]
async fn slow_reads_time_out_after_bounded_retries() {
    let sim = sim().await;
    let client = auth0(&sim);
    client.find_user_by_email("jane@example.com").await.unwrap();
    sim.add_fault(fault(
        "GET",
        "/api/v2/users-by-email",
        None,
        FaultKind::Latency { ms: 6000 },
    ));
    let err = client
        .find_user_by_email("jane@example.com")
        .await
        .unwrap_err();
    assert!(matches!(err, IdpError::Timeout), "{err:?}");
    assert_eq!(count_calls(&sim, "GET", "/api/v2/users-by-email"), 1 + 3);
}

#[tokio::test]
async fn dropped_connections_are_retried_on_reads_and_ambiguous_on_writes() {
    let sim = sim().await;
    let client = auth0(&sim);
    sim.add_fault(fault(
        "GET",
        "/api/v2/users-by-email",
        Some(1),
        FaultKind::Drop,
    ));
    assert!(
        client
            .find_user_by_email("jane@example.com")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(count_calls(&sim, "GET", "/api/v2/users-by-email"), 2);

    sim.add_fault(fault("PATCH", "/api/v2/users/", Some(1), FaultKind::Drop));
    let err = client
        .set_password(JANE_ID, &secret("Blue-Harbour-Lamp-42"))
        .await
        .unwrap_err();
    assert!(err.is_ambiguous(), "{err:?}");
    assert_eq!(count_calls(&sim, "PATCH", "/api/v2/users/"), 1);
}

#[tokio::test]
async fn unknown_connection_on_reset_email_is_a_bad_request() {
    let sim = sim().await;
    let mut config = auth0_config(&sim);
    config.connection = "No-Such-DB".into();
    let err = Auth0Client::new(config)
        .unwrap()
        .send_reset_email("jane@example.com")
        .await;
    assert!(matches!(err, Err(IdpError::BadRequest { .. })), "{err:?}");
}

#[tokio::test]
async fn the_token_is_refreshed_before_it_expires() {
    let mut config = sim_config();
    config.auth0.token_ttl_secs = 2;
    let sim = passgate_idp_sim::start(config).await.unwrap();
    let client = auth0(&sim);
    client.find_user_by_email("jane@example.com").await.unwrap();
    // Past the refresh point (90 % of the lifetime) the client fetches a new token itself,
    // so the provider never sees an expired one.
    tokio::time::sleep(Duration::from_secs(2)).await;
    client.find_user_by_email("jane@example.com").await.unwrap();
    assert_eq!(count_calls(&sim, "POST", "/oauth/token"), 2);
    assert!(
        sim.calls().iter().all(|c| c.status == 200),
        "{:#?}",
        sim.calls()
    );
}
