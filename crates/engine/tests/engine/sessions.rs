//! Security item 47: after Passgate sets a new password, the user's other sessions end and
//! their refresh tokens are revoked at the provider — exactly once, after the password change,
//! never when the tenant turned it off, and a provider plan without the session API does not
//! turn a successful reset into a failure.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::*;
use passgate_idp_sim::{Fault, FaultKind};
use passgate_store::AuditRepo as _;

fn without_revocation(yaml: &str) -> String {
    yaml.replace(
        "  redirect_uris:",
        "  revoke_sessions: false\n  redirect_uris:",
    )
}

async fn reset_once(h: &Harness) {
    h.request("ada@example.com").await;
    h.drain().await;
    let token = h.last_token();
    h.complete_link(&token, PASSWORD)
        .await
        .expect("the reset completes");
}

async fn revocation_outcomes(h: &Harness) -> Vec<String> {
    h.store
        .all_audit(1000, None)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event.action == "reset.sessions_revoked")
        .map(|e| e.event.outcome)
        .collect()
}

#[tokio::test]
async fn g47_sessions_and_refresh_tokens_are_revoked_once_after_the_password_change() {
    let h = Harness::new("hosted", "link", "en").await;
    reset_once(&h).await;

    let user = h.sim.user("ada@example.com").unwrap();
    assert_eq!(user.password_changes, 1);
    assert_eq!((user.sessions_revoked, user.refresh_tokens_revoked), (1, 1));
    let calls = h.sim.calls();
    let patch = calls.iter().position(|c| c.method == "PATCH").unwrap();
    let deletes: Vec<usize> = calls
        .iter()
        .enumerate()
        .filter(|(_, c)| c.method == "DELETE")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        deletes.len(),
        2,
        "one call for sessions, one for refresh tokens"
    );
    assert!(
        deletes.iter().all(|&i| i > patch),
        "revocation follows the password change"
    );
    assert_eq!(revocation_outcomes(&h).await, ["ok"]);
}

#[tokio::test]
async fn g47_a_tenant_that_turned_it_off_gets_no_revocation_call() {
    let yaml = without_revocation(&tenant_yaml("acme", "hosted", "link", "en", ""));
    let h = Harness::with_yaml(&yaml).await;
    reset_once(&h).await;

    let user = h.sim.user("ada@example.com").unwrap();
    assert_eq!(user.password_changes, 1);
    assert_eq!((user.sessions_revoked, user.refresh_tokens_revoked), (0, 0));
    assert!(h.sim.calls().iter().all(|c| c.method != "DELETE"));
    assert!(revocation_outcomes(&h).await.is_empty());
}

#[tokio::test]
async fn g47_a_plan_without_the_session_api_still_completes_the_reset_and_is_audited() {
    let h = Harness::new("hosted", "link", "en").await;
    h.sim.add_fault(Fault {
        method: Some("DELETE".into()),
        path: None,
        times: None,
        kind: FaultKind::Status { status: 403 },
    });
    reset_once(&h).await;

    let user = h.sim.user("ada@example.com").unwrap();
    assert_eq!(user.password_changes, 1, "the password did change");
    assert_eq!(revocation_outcomes(&h).await, ["failed:forbidden"]);
}
