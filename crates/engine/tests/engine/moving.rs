//! A tenant moving from Janrain to Auth0 (issue 19) through the whole engine: the move as a
//! platform admin stores it, the real job worker, the simulator's two providers.

use crate::common::*;
use chrono::TimeDelta;
use passgate_engine::seal_move_secret;
use passgate_idp_sim::{DEFAULT_CONNECTION, DEFAULT_JANRAIN_OWNER, Fault, FaultKind, SeedUser};
use passgate_store::{MovePolicy, MoveSource, TenantRepo};
use secrecy::SecretString;

fn seed(email: &str, connection: &str) -> SeedUser {
    SeedUser {
        email: email.into(),
        user_id: None,
        connection: Some(connection.into()),
        name: Some("Moving User".into()),
        blocked: false,
        email_verified: true,
        password: Some("an old password of theirs 1999".into()),
    }
}

/// A hosted tenant bound to Auth0 and moving from the simulator's Janrain app under `policy`.
async fn moving(policy: MovePolicy) -> Harness {
    let h = Harness::new("hosted", "link", "en").await;
    let sealed = seal_move_secret(
        &h.keyring,
        &h.tenant,
        &SecretString::from("sim-janrain-owner-secret"),
    )
    .unwrap();
    let source = MoveSource {
        domain: h.sim.janrain_base_url.clone(),
        client_id: DEFAULT_JANRAIN_OWNER.into(),
        policy,
    };
    h.store
        .set_move(
            &h.tenant,
            Some((source, sealed)),
            t0() + TimeDelta::seconds(1),
        )
        .await
        .unwrap();
    h
}

/// Every Janrain entity call answers 503 until the faults are cleared.
fn janrain_down(h: &Harness) {
    h.sim.add_fault(Fault {
        method: None,
        path: Some("/janrain/entity".into()),
        times: None,
        kind: FaultKind::Status { status: 503 },
    });
}

fn mailed(h: &Harness, email: &str) -> usize {
    h.mails()
        .iter()
        .filter(|m| m.rcpt_to.iter().any(|to| to.eq_ignore_ascii_case(email)))
        .count()
}

#[tokio::test]
async fn a_janrain_outage_holds_only_the_resets_that_need_janrain() {
    let h = moving(MovePolicy::default()).await;
    let janrain_only: Vec<String> = (0..8).map(|i| format!("janrain{i}@example.com")).collect();
    for email in &janrain_only {
        h.sim.seed_user(&seed(email, "janrain"));
    }
    h.sim
        .seed_user(&seed("auth0only@example.com", DEFAULT_CONNECTION));
    h.sim
        .seed_user(&seed("both@example.com", DEFAULT_CONNECTION));
    h.sim.seed_user(&seed("both@example.com", "janrain"));
    janrain_down(&h);

    // More Janrain-only look-ups fail than the circuit threshold…
    for email in &janrain_only {
        h.request(email).await;
    }
    h.drain().await;
    assert_eq!(
        h.mails().len(),
        0,
        "nothing can be sent while Janrain is out"
    );
    // …and still the users Auth0 alone can serve get their mail at once.
    h.request("auth0only@example.com").await;
    h.request("both@example.com").await;
    h.drain().await;
    assert_eq!(mailed(&h, "auth0only@example.com"), 1, "{:?}", h.mails());
    assert_eq!(mailed(&h, "both@example.com"), 1);
    assert_eq!(h.mails().len(), 2, "no Janrain-only reset went anywhere");

    // The held resets are not lost: when Janrain is back, each gets its one mail.
    h.sim.clear_faults();
    for _ in 0..6 {
        h.advance(TimeDelta::minutes(2));
        h.drain().await;
    }
    for email in &janrain_only {
        assert_eq!(
            mailed(&h, email),
            1,
            "{email} got its mail after the outage"
        );
    }
}

#[tokio::test]
async fn a_janrain_outage_holds_every_reset_that_would_also_set_the_janrain_password() {
    let h = moving(MovePolicy {
        reset_source_too: true,
        ..MovePolicy::default()
    })
    .await;
    h.sim
        .seed_user(&seed("both@example.com", DEFAULT_CONNECTION));
    h.sim.seed_user(&seed("both@example.com", "janrain"));
    janrain_down(&h);
    h.request("both@example.com").await;
    h.drain().await;
    assert_eq!(
        h.mails().len(),
        0,
        "the Janrain copy cannot be told apart from none while Janrain is out: held"
    );
    h.sim.clear_faults();
    h.advance(TimeDelta::minutes(2));
    h.drain().await;
    assert_eq!(mailed(&h, "both@example.com"), 1);
}

/// The median of `samples` in microseconds.
fn median(mut samples: Vec<u128>) -> u128 {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

#[tokio::test]
async fn every_placement_and_an_unknown_address_get_the_same_answer_in_the_same_time() {
    let h = moving(MovePolicy {
        migrate_on_reset: true,
        ..MovePolicy::default()
    })
    .await;
    h.sim.seed_user(&seed("janrainonly@example.com", "janrain"));
    h.sim
        .seed_user(&seed("both@example.com", DEFAULT_CONNECTION));
    h.sim.seed_user(&seed("both@example.com", "janrain"));
    h.sim
        .seed_user(&seed("auth0only@example.com", DEFAULT_CONNECTION));
    let emails = [
        "janrainonly@example.com",
        "both@example.com",
        "auth0only@example.com",
        "nobody@example.com",
    ];
    let mut times: Vec<Vec<u128>> = vec![Vec::new(); emails.len()];
    for _ in 0..6 {
        // A fresh hour: the rate-limit windows start over.
        h.advance(TimeDelta::minutes(61));
        let calls = h.sim.calls().len();
        for (email, samples) in emails.iter().zip(&mut times) {
            let started = std::time::Instant::now();
            let answer = h.engine.request_reset(h.input(email)).await.unwrap();
            samples.push(started.elapsed().as_micros());
            assert_eq!(answer.flow_id.len(), 22, "{email}: the one answer shape");
        }
        assert_eq!(
            h.sim.calls().len(),
            calls,
            "no provider is asked while answering, so where an account lives cannot show"
        );
        h.drain().await;
    }
    let medians: Vec<u128> = times.into_iter().map(median).collect();
    println!("request medians (µs) for {emails:?}: {medians:?}");
    let (lo, hi) = (
        *medians.iter().min().unwrap(),
        *medians.iter().max().unwrap(),
    );
    // The generous bound of the enumeration checklist (security_b::close): a shared machine.
    assert!(hi <= lo * 3 + 5_000, "medians {medians:?}");

    // Behind the answer every address was looked up in both providers, known or not.
    let calls = h.sim.calls();
    for email in emails {
        let encoded = email.replace('@', "%40");
        let in_auth0 = calls.iter().any(|c| {
            c.path.starts_with("/api/v2/users-by-email")
                && c.query.as_deref().is_some_and(|q| q.contains(&encoded))
        });
        let in_janrain = calls.iter().any(|c| {
            c.path.starts_with("/janrain/entity")
                && c.params.values().any(|v| v.to_string().contains(email))
        });
        assert!(
            in_auth0 && in_janrain,
            "{email}: Auth0 {in_auth0}, Janrain {in_janrain}"
        );
    }
    for email in &emails[..3] {
        assert!(mailed(&h, email) >= 1, "{email} got its mail");
    }
    assert_eq!(mailed(&h, "nobody@example.com"), 0);
}
