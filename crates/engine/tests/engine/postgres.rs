//! The engine on PostgreSQL (the multi-replica backend): the race, the release after a
//! definite provider failure and code mode, each in a fresh schema. Skipped, saying so, when
//! `PASSGATE_TEST_POSTGRES_URL` is unset.

use crate::common::*;
use passgate_engine::{CompleteError, Credential};

#[tokio::test]
async fn pg_fifty_concurrent_completions_one_success() {
    let Some(h) = Harness::postgres("hosted", "link").await else {
        return;
    };
    h.request("ada@example.com").await;
    h.drain().await;
    let token = h.last_token();
    let attempts = (0..50).map(|i| {
        let engine = h.engine.clone();
        let input = h.complete_input(
            Credential::Link {
                token: token.clone(),
            },
            &format!("{PASSWORD} {i}"),
        );
        tokio::spawn(async move { engine.complete_reset(input).await })
    });
    let results = futures::future::join_all(attempts).await;
    let ok = results.iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
    assert_eq!(ok, 1);
    assert_eq!(h.password_patches(), 1);
}

#[tokio::test]
async fn pg_provider_rejection_releases_the_token() {
    let Some(h) = Harness::postgres("hosted", "link").await else {
        return;
    };
    h.request("ada@example.com").await;
    h.drain().await;
    let token = h.last_token();
    let err = h
        .complete_link(&token, "an old password of hers 1815")
        .await
        .unwrap_err();
    assert!(
        matches!(err, CompleteError::ProviderRejected { .. }),
        "{err:?}"
    );
    h.complete_link(&token, PASSWORD).await.unwrap();
}

#[tokio::test]
async fn pg_code_mode_end_to_end_and_five_wrong_codes_kill_the_flow() {
    let Some(h) = Harness::postgres("hosted", "code").await else {
        return;
    };
    let accepted = h.request("ada@example.com").await;
    h.drain().await;
    let code = code_in(&plain_text(h.mails().last().unwrap())).unwrap();
    let wrong = if code == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    for _ in 0..4 {
        let input = h.complete_input(
            Credential::Code {
                flow_id: accepted.flow_id.clone(),
                code: wrong.into(),
            },
            PASSWORD,
        );
        assert!(h.engine.complete_reset(input).await.is_err());
    }
    let input = h.complete_input(
        Credential::Code {
            flow_id: accepted.flow_id,
            code,
        },
        PASSWORD,
    );
    h.engine.complete_reset(input).await.unwrap();
}
