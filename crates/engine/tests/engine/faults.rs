//! Fault tolerance (security.md §2 and item 69): SMTP and provider outages, provider policy
//! rejections and the ambiguous "applied, then timed out" write.

use std::collections::HashMap;
use std::time::Duration;

use crate::common::*;
use chrono::TimeDelta;
use passgate_engine::{CompleteError, Credential};
use passgate_idp_sim::{Fault, FaultKind};
use passgate_smtp_sink::Mode;

#[tokio::test]
async fn smtp_down_for_the_whole_run_then_up_delivers_every_mail_exactly_once() {
    let h = Harness::new("hosted", "link", "en, fr").await;
    let emails = [
        "ada@example.com",
        "nobody@example.com",
        "blocked@example.com",
        "ada@example.com",
    ];
    let mut healthy_answers = Vec::new();
    for email in emails {
        healthy_answers.push(h.request(email).await.flow_id.len());
    }
    h.drain().await;
    let healthy_mails = h.mails().len();
    assert_eq!(healthy_mails, 2);

    h.sink.set_mode(Mode::Down);
    let mut outage_answers = Vec::new();
    for email in emails {
        outage_answers.push(h.request(email).await.flow_id.len());
    }
    assert_eq!(
        healthy_answers, outage_answers,
        "the answers did not change"
    );
    // Several worker rounds while SMTP stays down: nothing arrives, nothing is lost.
    for _ in 0..3 {
        h.drain().await;
        h.advance(TimeDelta::seconds(30));
    }
    assert_eq!(h.mails().len(), healthy_mails);

    h.sink.set_mode(Mode::Accept);
    h.advance(TimeDelta::minutes(20));
    h.drain().await;
    h.advance(TimeDelta::minutes(20));
    h.drain().await;
    let mails = h.mails();
    assert_eq!(mails.len(), healthy_mails + 2, "every queued mail arrived");
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for mail in &mails {
        *by_id.entry(mail.header("Message-ID").unwrap()).or_default() += 1;
    }
    assert!(
        by_id.values().all(|&n| n == 1),
        "each exactly once: {by_id:?}"
    );
    assert!(
        mails
            .iter()
            .all(|m| m.rcpt_to == vec!["ada@example.com".to_owned()])
    );
}

#[tokio::test]
async fn provider_down_during_lookup_is_retried_in_the_background() {
    let h = Harness::new("hosted", "link", "en").await;
    h.sim.add_fault(Fault {
        method: None,
        path: Some("/api/v2/users-by-email".into()),
        times: None,
        kind: FaultKind::Status { status: 503 },
    });
    h.request("ada@example.com").await;
    let round = h.engine.run_jobs_once().await.unwrap();
    assert_eq!(round.retried, 1, "the job goes back with a backoff");
    h.sim.clear_faults();
    h.advance(TimeDelta::minutes(1));
    h.drain().await;
    assert_eq!(
        h.mails().len(),
        1,
        "the mail goes out once the provider is back"
    );
    h.complete_link(&h.last_token(), PASSWORD).await.unwrap();
}

#[tokio::test]
async fn provider_policy_rejection_leaves_the_token_usable() {
    let h = Harness::new("hosted", "link", "en").await;
    h.request("ada@example.com").await;
    h.drain().await;
    let token = h.last_token();
    // Ada's current password passes the tenant's rules but Auth0's history refuses it.
    let err = h
        .complete_link(&token, "an old password of hers 1815")
        .await
        .unwrap_err();
    match err {
        CompleteError::ProviderRejected { message_key } => {
            assert_eq!(message_key, "provider.password_history");
        }
        other => panic!("expected a provider rejection, got {other:?}"),
    }
    assert!(
        h.engine.view_token(&token).await.is_ok(),
        "the link still works"
    );
    h.complete_link(&token, PASSWORD).await.unwrap();
    assert_eq!(h.sim.user("ada@example.com").unwrap().password_changes, 1);
}

#[tokio::test]
async fn provider_rate_limit_at_completion_leaves_the_token_usable() {
    let h = Harness::new("hosted", "link", "en").await;
    h.request("ada@example.com").await;
    h.drain().await;
    let token = h.last_token();
    h.sim.add_fault(Fault {
        method: Some("PATCH".into()),
        path: None,
        times: Some(1),
        // Retry-After is beyond what a user is held for; the window itself reopens in a
        // second (the client paces by x-ratelimit-reset, so the retry below waits for it).
        kind: FaultKind::RateLimit {
            reset_in_secs: 1,
            retry_after_secs: Some(60),
        },
    });
    let err = h.complete_link(&token, PASSWORD).await.unwrap_err();
    assert!(matches!(err, CompleteError::TryAgainLater), "{err:?}");
    assert_eq!(h.sim.user("ada@example.com").unwrap().password_changes, 0);
    // Come back once the window has reopened, as the user is told to.
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    h.complete_link(&token, PASSWORD).await.unwrap();
    assert_eq!(h.sim.user("ada@example.com").unwrap().password_changes, 1);
}

#[tokio::test]
async fn ambiguous_timeout_never_reports_success_and_never_sets_twice() {
    let h = Harness::new("hosted", "link", "en").await;
    h.request("ada@example.com").await;
    h.drain().await;
    let token = h.last_token();
    h.sim.add_fault(Fault {
        method: Some("PATCH".into()),
        path: None,
        times: Some(1),
        kind: FaultKind::ApplyThenDelay { ms: 8_000 },
    });
    let err = h.complete_link(&token, PASSWORD).await.unwrap_err();
    assert!(
        matches!(
            err,
            CompleteError::Unconfirmed {
                likely_applied: true
            }
        ),
        "the re-read shows the change, but success is not claimed: {err:?}"
    );
    // The link is spent: a retry cannot apply a second change.
    let again = h
        .complete_link(&token, &format!("{PASSWORD} again"))
        .await
        .unwrap_err();
    assert!(matches!(again, CompleteError::InvalidLink(_)));
    assert_eq!(h.sim.user("ada@example.com").unwrap().password_changes, 1);
    assert_eq!(h.password_patches(), 1);
}

#[tokio::test]
async fn mismatched_confirmation_and_policy_violations_make_no_provider_call() {
    let h = Harness::new("hosted", "link", "en").await;
    h.request("ada@example.com").await;
    h.drain().await;
    let token = h.last_token();
    let mut input = h.complete_input(
        Credential::Link {
            token: token.clone(),
        },
        PASSWORD,
    );
    input.confirmation = secrecy::SecretString::from(format!("{PASSWORD}x"));
    assert!(matches!(
        h.engine.complete_reset(input).await,
        Err(CompleteError::Mismatch)
    ));
    let short = h.complete_link(&token, "short").await.unwrap_err();
    assert!(matches!(short, CompleteError::PolicyViolations(v) if !v.is_empty()));
    assert_eq!(h.password_patches(), 0);
    h.complete_link(&token, PASSWORD).await.unwrap();

    // History: the password just set cannot be set again through Passgate.
    h.request("ada@example.com").await;
    h.drain().await;
    let token = h.last_token();
    let reused = h.complete_link(&token, PASSWORD).await.unwrap_err();
    assert!(matches!(reused, CompleteError::PasswordReused { depth: 2 }));
    assert_eq!(h.password_patches(), 1);
}

#[tokio::test]
async fn a_failing_provider_opens_the_tenants_circuit_until_the_cooldown() {
    let h = Harness::build(&[tenant_yaml("acme", "hosted", "link", "en", "")], |s| {
        s.breaker_threshold = 2;
        s.breaker_cooldown = std::time::Duration::from_secs(30);
    })
    .await;
    h.request("ada@example.com").await;
    h.drain().await;
    let token = h.last_token();
    h.sim.add_fault(Fault {
        method: None,
        path: Some("/api/v2/users-by-email".into()),
        times: None,
        kind: FaultKind::Status { status: 503 },
    });
    for _ in 0..2 {
        assert!(matches!(
            h.complete_link(&token, PASSWORD).await,
            Err(CompleteError::TryAgainLater)
        ));
    }
    let calls = h.sim.calls().len();
    // Open: no call reaches the provider, for completions and background jobs alike.
    assert!(matches!(
        h.complete_link(&token, PASSWORD).await,
        Err(CompleteError::TryAgainLater)
    ));
    h.request("ada@example.com").await;
    assert_eq!(h.engine.run_jobs_once().await.unwrap().retried, 1);
    assert_eq!(h.sim.calls().len(), calls, "the open circuit sends nothing");
    // After the cooldown a probe goes through; the provider is back, so it closes.
    h.sim.clear_faults();
    h.advance(TimeDelta::seconds(31));
    h.drain().await;
    let token = h.last_token();
    h.complete_link(&token, PASSWORD).await.unwrap();
}

#[tokio::test]
async fn a_slow_provider_call_does_not_hold_the_other_jobs_of_its_batch() {
    // Two tenants: a Janrain one whose provider answers late, and Acme on Auth0.
    let h = Harness::build(
        &[
            tenant_yaml("acme", "hosted", "link", "en", ""),
            tenant_yaml("jr", "janrain", "link", "en", ""),
        ],
        |_| {},
    )
    .await;
    h.sim.add_fault(Fault {
        method: None,
        path: Some("/janrain/oauth/forgot_password_native".into()),
        times: Some(1),
        // Slow, but inside the client's timeout: the call succeeds late.
        kind: FaultKind::Latency { ms: 1500 },
    });
    let mut slow = h.input("jan@example.com");
    slow.client_id = "jr-ios".into();
    h.engine.request_reset(slow).await.unwrap();
    h.request("ada@example.com").await;

    let engine = h.engine.clone();
    let round = tokio::spawn(async move { engine.run_jobs_once().await });
    // Deliver mail as it is queued until Ada's is out (a hang guard bounds the wait).
    for _ in 0..1000 {
        h.engine.run_outbox_once().await.unwrap();
        if !h.mails().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(h.mails().len(), 1, "Ada's reset mail went out");
    let janrain = h
        .sim
        .calls()
        .into_iter()
        .find(|c| c.path.starts_with("/janrain/"))
        .expect("the Janrain job called its provider");
    assert_eq!(
        janrain.status, 0,
        "Ada's mail went out while the other tenant's slow call was still unanswered"
    );
    let round = round.await.unwrap().unwrap();
    assert_eq!(round.done, 2, "both jobs finished in the one round");
}
