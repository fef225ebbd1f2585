//! The driver: what it applies to every mode (limits, the confirmation, the refusal count,
//! the audit of the end), with the fakes of `crate::fakes`.

use passgate_store::AuditRepo as _;
use secrecy::SecretString;

use crate::{
    error::CompleteError,
    fakes::{Kit, PASSWORD},
    flow::{CompleteInput, Credential},
};

fn input(credential: Credential, password: &str, confirmation: &str) -> CompleteInput {
    CompleteInput {
        credential,
        password: SecretString::from(password.to_owned()),
        confirmation: SecretString::from(confirmation.to_owned()),
        client_ip: "198.51.100.4".parse().unwrap(),
        request_id: "req-2".into(),
    }
}

fn link(token: &str) -> Credential {
    Credential::Link {
        token: token.to_owned(),
    }
}

/// (action, actor, outcome) of the redemption events, oldest first.
async fn events(kit: &Kit) -> Vec<(String, String, String)> {
    let mut events: Vec<_> = kit
        .store
        .all_audit(100, None)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| {
            e.event.action.starts_with("reset.complete") || e.event.action == "reset.token_refused"
        })
        .map(|e| (e.event.action, e.event.actor, e.event.outcome))
        .collect();
    events.reverse();
    events
}

#[tokio::test]
async fn a_mismatch_is_refused_before_the_policy_and_counts_as_a_refusal() {
    let kit = Kit::with("hosted", "link", |s| s.redeem_max_refusals = 2).await;
    kit.request("ada@example.com").await;
    let token = kit.last_token();
    // "short" breaks the policy too, but the confirmation is compared first.
    let first = kit
        .engine
        .complete_reset(input(link(&token), "short", "shorter"))
        .await;
    assert!(matches!(first, Err(CompleteError::Mismatch)), "{first:?}");
    // The second refusal reaches the limit: the link is spent, and this answer says so.
    let second = kit
        .engine
        .complete_reset(input(link(&token), "short", "short"))
        .await;
    assert!(
        matches!(second, Err(CompleteError::InvalidLink(_))),
        "{second:?}"
    );
    let outcomes: Vec<_> = events(&kit).await.into_iter().map(|(_, _, o)| o).collect();
    assert_eq!(outcomes, ["mismatch", "refusals_exhausted"]);
    assert_eq!(kit.provider.calls("set_password"), 0);
}

#[tokio::test]
async fn the_end_is_a_completion_by_the_user_once_verified_and_an_anonymous_refusal_before() {
    let kit = Kit::new("hosted", "link").await;
    kit.request("ada@example.com").await;
    let token = kit.last_token();
    kit.engine
        .complete_reset(input(link(&token), PASSWORD, PASSWORD))
        .await
        .unwrap();
    let _ = kit
        .engine
        .complete_reset(input(link("nonsense"), PASSWORD, PASSWORD))
        .await;
    assert_eq!(
        events(&kit).await,
        [
            (
                "reset.complete".into(),
                "user:auth0|ada".into(),
                "ok".into()
            ),
            (
                "reset.token_refused".into(),
                "anonymous".into(),
                "malformed".into()
            ),
        ]
    );
}
