//! Workers that wake up: an enqueue wakes the job and outbox workers at once, a full batch
//! claims again at once, and the poll interval (60 s here) is only the fallback. Each test
//! bounds its wait at 10 s, far below the poll, so a lost wake-up fails instead of waiting.
//! On PostgreSQL, one replica's enqueue wakes another replica's worker (`LISTEN/NOTIFY`).
//! And the outbox sends a batch over a few reused SMTP connections.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use crate::common::*;
use passgate_engine::mail::SMTP_CONNECTIONS_PER_RELAY;
use tokio::sync::watch;

/// Longer than any test waits: a worker that only polls delivers nothing in time.
const SLOW_POLL: Duration = Duration::from_secs(60);
/// Generous for a loaded 2-core box, and still six times shorter than the poll.
const PATIENCE: Duration = Duration::from_secs(10);

/// Workers that poll every 60 s and claim `batch` items per round.
fn slow(settings: &mut passgate_engine::EngineSettings, batch: u32) {
    settings.jobs.poll_interval = SLOW_POLL;
    settings.outbox.poll_interval = SLOW_POLL;
    settings.jobs.batch = batch;
    settings.outbox.batch = batch;
}

/// A harness whose workers poll every 60 s and claim `batch` items per round.
async fn slow_polling(batch: u32) -> Harness {
    Harness::build(&[tenant_yaml("acme", "hosted", "link", "en", "")], |s| {
        slow(s, batch)
    })
    .await
}

/// `count` distinct existing users at the provider (one account's limit would stop repeats).
fn seed_users(h: &Harness, count: usize) -> Vec<String> {
    let template = users().into_iter().next().unwrap();
    (0..count)
        .map(|i| {
            let mut user = template.clone();
            user.email = format!("user{i}@example.com");
            h.sim.seed_user(&user);
            user.email
        })
        .collect()
}

#[tokio::test]
async fn a_request_wakes_both_idle_workers_long_before_their_poll() {
    let h = slow_polling(16).await;
    let (stop, workers) = spawn_workers(&h);
    // Let both loops finish their first, empty round and go to sleep on the 60 s poll.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    h.request("ada@example.com").await;
    let mails = tokio::time::timeout(PATIENCE, h.sink.wait_for(1))
        .await
        .expect("the request woke the job worker, whose mail woke the outbox worker");
    let took = started.elapsed();
    println!("request → mail at the relay with a 60 s poll: {took:?}");
    assert_eq!(mails.len(), 1);
    assert!(token_in(&plain_text(&mails[0])).is_some());
    stop_workers(stop, workers, PATIENCE).await;
}

#[tokio::test]
async fn a_full_batch_claims_again_at_once_instead_of_waiting_for_the_poll() {
    let h = slow_polling(2).await;
    let emails = seed_users(&h, 5);
    // Queued before any worker runs: five jobs, at most one stored wake-up, batches of two.
    for email in &emails {
        h.request(email).await;
    }
    let (stop, workers) = spawn_workers(&h);
    let mails = tokio::time::timeout(PATIENCE, h.sink.wait_for(emails.len()))
        .await
        .expect("full batches were followed by another claim, not by the 60 s poll");
    let mut recipients: Vec<_> = mails.iter().flat_map(|m| m.rcpt_to.clone()).collect();
    recipients.sort();
    assert_eq!(recipients, emails);
    stop_workers(stop, workers, PATIENCE).await;
}

#[tokio::test]
async fn a_burst_of_mails_goes_out_over_at_most_the_capped_reused_connections() {
    let h = slow_polling(16).await;
    let emails = seed_users(&h, 24);
    for email in &emails {
        h.request(email).await;
    }
    let started = Instant::now();
    h.drain().await;
    let took = started.elapsed();
    // On a loaded box a provider lookup may time out and its job retry later: let it.
    for _ in 0..5 {
        if h.mails().len() == emails.len() {
            break;
        }
        h.advance(chrono::TimeDelta::minutes(1));
        h.drain().await;
    }
    let mails = h.mails();
    assert_eq!(mails.len(), emails.len());
    let opened = h.sink.connections();
    println!(
        "{} mails (batches of 16) in {took:?} over {opened} SMTP connections",
        mails.len()
    );
    // More than one: the batch went out concurrently; no more than the cap: reused.
    assert!(
        (2..=SMTP_CONNECTIONS_PER_RELAY).contains(&opened),
        "{} mails opened {opened} connections (cap {SMTP_CONNECTIONS_PER_RELAY})",
        mails.len()
    );
}

#[tokio::test]
async fn pg_one_replicas_enqueue_wakes_the_other_replicas_worker() {
    let Some(h) = Harness::postgres_with("hosted", "link", |s| slow(s, 16)).await else {
        return;
    };
    let tenants = || acme_only("hosted", "link");
    // Replica A runs the workers; the request goes to replica B, which runs none: only
    // B's NOTIFY can wake A before A's 60 s poll.
    let (a, b) = (h.engine_with(tenants()), h.engine_with(tenants()));
    let (stop, shutdown) = watch::channel(false);
    let jobs = tokio::spawn({
        let (a, shutdown) = (a.clone(), shutdown.clone());
        async move { a.run_job_worker(shutdown).await }
    });
    let outbox = tokio::spawn(async move { a.run_outbox_worker(shutdown).await });
    // Listening, and asleep on the 60 s poll.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let started = Instant::now();
    b.request_reset(h.input("ada@example.com")).await.unwrap();
    let mails = tokio::time::timeout(PATIENCE, h.sink.wait_for(1))
        .await
        .expect("B's NOTIFY woke A's job worker");
    println!(
        "request on replica B → mail from replica A, 60 s poll: {:?}",
        started.elapsed()
    );
    assert_eq!(mails.len(), 1);
    stop_workers(stop, [jobs, outbox], PATIENCE).await;
}
