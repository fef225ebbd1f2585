//! Each transition of the machine on its own, with the fakes of `crate::fakes`.

use chrono::TimeDelta;
use passgate_idp::IdpError;
use secrecy::SecretString;

use super::*;
use crate::{
    fakes::{Kit, PASSWORD},
    outcome::Refusal,
    secret_token::LinkToken,
};

fn attempt(password: &str) -> Attempt {
    Attempt {
        password: SecretString::from(password.to_owned()),
        confirmation: SecretString::from(password.to_owned()),
        request_id: "req-2".into(),
    }
}

async fn verify(kit: &Kit, presented: Presented) -> Result<Verified, crate::outcome::Stopped> {
    let e = &kit.engine;
    presented
        .verify(&e.tokens, e.tenants.as_ref(), &e.janrain, 5)
        .await
}

fn link(token: &str) -> Presented {
    Presented::Link(LinkToken::parse(token))
}

/// Runs `step` to its end with the kit's components.
async fn run(kit: &Kit, mut step: Step, attempt: &Attempt) -> Outcome {
    let e = &kit.engine;
    loop {
        step = match step {
            Step::Presented(p) => match verify(kit, p).await {
                Ok(v) => Step::Verified(Box::new(v)),
                Err(stopped) => Step::Done(stopped.outcome),
            },
            Step::Verified(v) => v.check(&e.history, attempt).await,
            Step::Acceptable(a) => a.proceed(&e.providers, &e.tokens, &e.janrain).await,
            Step::Current(c) => c.consume(&e.tokens).await,
            Step::Consumed(c) => c.apply(&e.tokens, &e.aftercare(), attempt).await,
            Step::Authorized(a) => a.apply(&e.janrain, attempt).await,
            Step::Done(outcome) => return outcome,
        }
    }
}

fn refusal(result: Result<Verified, crate::outcome::Stopped>) -> Option<Refusal> {
    match result {
        Err(crate::outcome::Stopped {
            outcome: Outcome::Refused(refusal),
            ..
        }) => Some(refusal),
        _ => None,
    }
}

#[tokio::test]
async fn verify_refuses_malformed_unknown_and_expired_links_and_accepts_a_live_one() {
    let kit = Kit::new("hosted", "link").await;
    kit.request("ada@example.com").await;
    let token = kit.last_token();
    assert_eq!(
        refusal(verify(&kit, link("x")).await),
        Some(Refusal::Malformed)
    );
    let unknown = "A".repeat(token.len());
    assert_eq!(
        refusal(verify(&kit, link(&unknown)).await),
        Some(Refusal::Unknown)
    );
    assert!(verify(&kit, link(&token)).await.is_ok());
    // Valid through the TTL (10 min), dead one second later.
    kit.clock.advance(TimeDelta::minutes(10));
    assert!(verify(&kit, link(&token)).await.is_ok());
    kit.clock.advance(TimeDelta::seconds(1));
    assert_eq!(
        refusal(verify(&kit, link(&token)).await),
        Some(Refusal::Expired)
    );
}

#[tokio::test]
async fn verify_counts_a_wrong_code_on_its_flow_until_the_flow_dies() {
    let kit = Kit::new("hosted", "code").await;
    let flow = kit.request("ada@example.com").await;
    let right = kit.last_mail();
    let wrong = if right == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    let code = |digits: &str| Presented::Code(FlowId::parse(&flow), ResetCode::parse(digits));
    for _ in 0..5 {
        assert_eq!(
            refusal(verify(&kit, code(wrong)).await),
            Some(Refusal::WrongCode)
        );
    }
    // The fifth wrong code killed the flow: the right one is refused too.
    assert!(refusal(verify(&kit, code(&right)).await).is_some());
}

#[tokio::test]
async fn verify_refuses_a_janrain_code_through_a_tenant_in_another_mode() {
    let kit = Kit::new("hosted", "link").await;
    let presented = Presented::Janrain {
        client: "acme-ios".into(),
        code: SecretString::from("abc"),
    };
    assert_eq!(
        refusal(verify(&kit, presented).await),
        Some(Refusal::WrongMode)
    );
}

#[tokio::test]
async fn check_refuses_policy_violations_and_recent_passwords_without_a_provider_call() {
    let kit = Kit::new("hosted", "link").await;
    kit.request("ada@example.com").await;
    let token = kit.last_token();
    let step = Step::Presented(link(&token));
    assert!(matches!(
        run(&kit, step, &attempt("short")).await,
        Outcome::PolicyViolations(_)
    ));
    assert!(matches!(
        run(&kit, Step::Presented(link(&token)), &attempt(PASSWORD)).await,
        Outcome::Completed(_)
    ));
    // The same password again, with a new link: one of the last two.
    kit.request("ada@example.com").await;
    let again = kit.last_token();
    assert!(matches!(
        run(&kit, Step::Presented(link(&again)), &attempt(PASSWORD)).await,
        Outcome::PasswordReused { depth: 2 }
    ));
    assert_eq!(kit.provider.calls("set_password"), 1);
}

#[tokio::test]
async fn recheck_kills_the_link_when_the_account_changed_since_issue() {
    let kit = Kit::new("hosted", "link").await;
    kit.request("ada@example.com").await;
    let token = kit.last_token();
    kit.provider.change("ada@example.com", |u| {
        u.last_password_reset = Some(chrono::DateTime::from_timestamp(1_795_000_100, 0).unwrap());
    });
    let outcome = run(&kit, Step::Presented(link(&token)), &attempt(PASSWORD)).await;
    assert!(
        matches!(outcome, Outcome::Refused(Refusal::AccountChanged)),
        "{outcome:?}"
    );
    assert_eq!(
        refusal(verify(&kit, link(&token)).await),
        Some(Refusal::Invalidated)
    );
    assert_eq!(kit.provider.calls("set_password"), 0);
}

#[tokio::test]
async fn consume_lets_exactly_one_attempt_win_the_row() {
    let kit = Kit::new("hosted", "link").await;
    kit.request("ada@example.com").await;
    let token = kit.last_token();
    let verified = verify(&kit, link(&token)).await.unwrap();
    let Usable::Row(row) = verified.usable else {
        panic!("a row");
    };
    let e = &kit.engine;
    let provider = e.providers.provider(&verified.tenant.config).await.unwrap();
    let user = provider
        .find_user_by_email("ada@example.com")
        .await
        .unwrap()
        .unwrap();
    let current = |row: ResetToken| Current {
        tenant: Arc::clone(&verified.tenant),
        row,
        provider: Arc::clone(&provider),
        user: user.clone(),
    };
    assert!(matches!(
        current((*row).clone()).consume(&e.tokens).await,
        Step::Consumed(_)
    ));
    assert!(matches!(
        current(*row).consume(&e.tokens).await,
        Step::Done(Outcome::Refused(Refusal::Used))
    ));
}

#[tokio::test]
async fn apply_settles_the_row_by_the_providers_answer() {
    type Case = (fn() -> IdpError, fn(&Outcome) -> bool, bool);
    let cases: [Case; 4] = [
        // A policy rejection gives the row back.
        (
            || IdpError::PasswordStrength,
            |o| {
                matches!(
                    o,
                    Outcome::ProviderRejected {
                        message_key: "provider.password_strength"
                    }
                )
            },
            true,
        ),
        // A definite outage gives it back too.
        (
            || IdpError::Timeout,
            |o| matches!(o, Outcome::Unavailable(Unavailable::Provider)),
            true,
        ),
        // An ambiguous answer spends it.
        (
            || IdpError::Ambiguous {
                operation: "set_password",
                reason: "timeout after sending".into(),
            },
            |o| {
                matches!(
                    o,
                    Outcome::Unconfirmed {
                        likely_applied: false
                    }
                )
            },
            false,
        ),
        (
            || IdpError::NotFound,
            |o| matches!(o, Outcome::Refused(Refusal::UserGone)),
            false,
        ),
    ];
    for (error, expected, usable_after) in cases {
        let kit = Kit::new("hosted", "link").await;
        kit.request("ada@example.com").await;
        let token = kit.last_token();
        kit.provider.fail_next("set_password", error);
        let outcome = run(&kit, Step::Presented(link(&token)), &attempt(PASSWORD)).await;
        assert!(expected(&outcome), "{outcome:?}");
        assert_eq!(
            verify(&kit, link(&token)).await.is_ok(),
            usable_after,
            "{outcome:?}"
        );
    }
}

#[tokio::test]
async fn an_outage_of_set_password_opens_the_circuit_through_the_guarded_provider() {
    let kit = Kit::with("hosted", "link", |s| s.breaker_threshold = 1).await;
    kit.request("ada@example.com").await;
    let token = kit.last_token();
    kit.provider.fail_next("set_password", || IdpError::Timeout);
    let first = run(&kit, Step::Presented(link(&token)), &attempt(PASSWORD)).await;
    assert!(
        matches!(first, Outcome::Unavailable(Unavailable::Provider)),
        "{first:?}"
    );
    let second = run(&kit, Step::Presented(link(&token)), &attempt(PASSWORD)).await;
    assert!(
        matches!(second, Outcome::Unavailable(Unavailable::CircuitOpen)),
        "{second:?}"
    );
    assert_eq!(kit.provider.calls("set_password"), 1);
}

#[tokio::test]
async fn janrain_authorize_redeems_a_code_once_and_apply_spends_it() {
    let kit = Kit::new("janrain", "link").await;
    let presented = || Presented::Janrain {
        client: "acme-ios".into(),
        code: SecretString::from("the-code"),
    };
    // A rejection keeps the access token: the correction needs no second redemption.
    kit.provider
        .fail_next("set_password_with_authorization", || {
            IdpError::PasswordStrength
        });
    let rejected = run(&kit, Step::Presented(presented()), &attempt(PASSWORD)).await;
    assert!(
        matches!(rejected, Outcome::ProviderRejected { .. }),
        "{rejected:?}"
    );
    let done = run(&kit, Step::Presented(presented()), &attempt(PASSWORD)).await;
    assert!(matches!(done, Outcome::Completed(_)), "{done:?}");
    assert_eq!(kit.provider.calls("redeem_reset_code"), 1);
    assert_eq!(
        refusal(verify(&kit, presented()).await),
        Some(Refusal::Used)
    );
}

#[tokio::test]
async fn janrain_apply_spends_a_code_whose_token_expired_at_the_provider() {
    let kit = Kit::new("janrain", "link").await;
    let presented = || Presented::Janrain {
        client: "acme-ios".into(),
        code: SecretString::from("the-code"),
    };
    kit.provider
        .fail_next("set_password_with_authorization", || IdpError::ExpiredToken);
    let outcome = run(&kit, Step::Presented(presented()), &attempt(PASSWORD)).await;
    assert!(
        matches!(outcome, Outcome::Refused(Refusal::Expired)),
        "{outcome:?}"
    );
    assert_eq!(
        refusal(verify(&kit, presented()).await),
        Some(Refusal::Used)
    );
}
