//! The pipeline benchmark (`bench/pipeline.sh`, `--pipeline-resets N`): N resets for N
//! distinct existing users, requested as fast as the API accepts them, and the time from
//! each request until its mail is at the SMTP sink (the relay). The clock starts when the
//! request is sent (on loopback: when the API accepts it; its 202 comes after the 150 ms
//! floor) and stops when the sink accepts the message's `DATA`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use passgate_testbed::{Deployment, ResetClient};

/// What one run measured.
#[derive(Debug)]
pub struct PipelineReport {
    /// Resets requested (and mailed).
    pub resets: usize,
    /// First request sent → last mail at the sink.
    pub elapsed: Duration,
    /// How long requesting all of them took (first sent → last answered).
    pub requesting: Duration,
    /// Request sent → its mail at the sink, sorted.
    pub latencies: Vec<Duration>,
    /// Request answered (202) → its mail at the sink, sorted (zero when the mail came first).
    pub after_answer: Vec<Duration>,
}

impl PipelineReport {
    /// Resets per second over the whole run.
    pub fn rate(&self) -> f64 {
        self.resets as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The `p`-quantile (0–1) of sorted `values`, in milliseconds.
pub fn quantile_ms(values: &[Duration], p: f64) -> f64 {
    let at = ((values.len() as f64 - 1.0) * p).round().max(0.0) as usize;
    values.get(at).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// Requests a reset for every user of `users` from `concurrency` threads (each request from
/// its own client address, so only the account and tenant limits apply), then waits at most
/// `limit` for all mails.
pub fn run(
    deployment: &Deployment,
    client_id: &str,
    users: &[String],
    concurrency: usize,
    limit: Duration,
) -> anyhow::Result<PipelineReport> {
    let client = ResetClient::new(deployment.base())?;
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    // (sent, answered) per user, by index.
    let mut times: Vec<Option<(Instant, Instant)>> = vec![None; users.len()];
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let workers: Vec<_> = (0..concurrency.max(1))
            .map(|_| {
                let (client, next) = (client.clone(), &next);
                scope.spawn(move || -> anyhow::Result<Vec<(usize, Instant, Instant)>> {
                    let mut mine = Vec::new();
                    loop {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        let Some(email) = users.get(n) else {
                            return Ok(mine);
                        };
                        let ip =
                            format!("10.{}.{}.{}", 100 + n / 62_500, n / 250 % 250, n % 250 + 1);
                        let sent = Instant::now();
                        let answer = client
                            .clone()
                            .from_ip(&ip)
                            .request_reset(client_id, email)?;
                        if answer.status != 202 {
                            bail!(
                                "reset request for {email}: {} {}",
                                answer.status,
                                answer.text
                            );
                        }
                        mine.push((n, sent, Instant::now()));
                    }
                })
            })
            .collect();
        for worker in workers {
            let done = worker
                .join()
                .map_err(|_| anyhow::anyhow!("a request thread panicked"))??;
            for (n, sent, answered) in done {
                times[n] = Some((sent, answered));
            }
        }
        Ok(())
    })?;
    let requesting = started.elapsed();
    let mails = deployment.mail.wait_for(users.len(), limit)?;
    let arrived: HashMap<String, Instant> = mails
        .iter()
        .flat_map(|m| {
            m.rcpt_to
                .iter()
                .map(|r| (r.to_ascii_lowercase(), m.received_at))
        })
        .collect();
    let mut latencies = Vec::with_capacity(users.len());
    let mut after_answer = Vec::with_capacity(users.len());
    let mut last = started;
    for (email, time) in users.iter().zip(&times) {
        let (sent, answered) = time.with_context(|| format!("no answer recorded for {email}"))?;
        let at = *arrived
            .get(&email.to_ascii_lowercase())
            .with_context(|| format!("no mail to {email}"))?;
        latencies.push(at.saturating_duration_since(sent));
        after_answer.push(at.saturating_duration_since(answered));
        last = last.max(at);
    }
    latencies.sort_unstable();
    after_answer.sort_unstable();
    Ok(PipelineReport {
        resets: users.len(),
        elapsed: last.saturating_duration_since(started),
        requesting,
        latencies,
        after_answer,
    })
}
