//! Rough throughput figures of the engine on SQLite (debug build unless run with
//! `--release`). Ignored by default; prints, never asserts on time:
//! `cargo test -p passgate-engine --test engine throughput -- --ignored --nocapture`.

use std::time::Instant;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "prints figures; run on demand"]
async fn request_issue_and_send_rates() {
    let h = Harness::new("hosted", "link", "en").await;
    let n = 200;
    let started = Instant::now();
    for i in 0..n {
        let email = if i % 2 == 0 {
            "ada@example.com".to_owned()
        } else {
            format!("user{i}@example.com")
        };
        let mut input = h.input(&email);
        input.client_ip = ip(&format!("198.51.100.{}", i % 250));
        h.engine.request_reset(input).await.unwrap();
    }
    let requests = started.elapsed();
    let started = Instant::now();
    h.drain().await;
    let background = started.elapsed();
    println!(
        "request_reset: {n} in {requests:?} ({:.0}/s, {:?} each); jobs + outbox for them: {background:?}; mails: {}",
        f64::from(n) / requests.as_secs_f64(),
        requests / n,
        h.mails().len()
    );
}
