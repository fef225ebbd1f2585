//! [`Load`]: steady HTTP traffic against a gateway from a background thread — `concurrency`
//! workers each sending one request after another — with a [`LoadReport`] of what came back
//! (requests, answers by status, transport errors, latency percentiles). Fault tests run it
//! while they break something and then check that nothing was lost and the errors are the
//! ones the fault explains.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::PUBLIC_HOST;

/// One request of the load.
#[derive(Debug, Clone)]
pub struct RequestSpec {
    /// `GET` or `POST`.
    pub method: reqwest::Method,
    /// Path and query, e.g. `/reset?client_id=acme-shop-ios`.
    pub path: String,
    /// A JSON body, if any.
    pub body: Option<Value>,
    /// The client address sent in `X-Forwarded-For`.
    pub client_ip: String,
}

impl RequestSpec {
    /// A `GET` of `path` from `client_ip`.
    pub fn get(path: impl Into<String>, client_ip: impl Into<String>) -> Self {
        Self {
            method: reqwest::Method::GET,
            path: path.into(),
            body: None,
            client_ip: client_ip.into(),
        }
    }

    /// A JSON `POST` to `path` from `client_ip`.
    pub fn post(path: impl Into<String>, body: Value, client_ip: impl Into<String>) -> Self {
        Self {
            method: reqwest::Method::POST,
            path: path.into(),
            body: Some(body),
            client_ip: client_ip.into(),
        }
    }
}

/// Makes the `n`-th request (numbered across all workers from 0).
pub type RequestMaker = Arc<dyn Fn(u64) -> RequestSpec + Send + Sync>;

/// What a load run saw.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    /// Requests sent.
    pub sent: u64,
    /// Answers by HTTP status.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests that got no HTTP answer (refused, reset, timed out).
    pub transport_errors: u64,
    /// Median latency of answered requests.
    pub p50: Duration,
    /// 99th percentile latency of answered requests.
    pub p99: Duration,
    /// How long it ran.
    pub elapsed: Duration,
}

impl LoadReport {
    /// Answers with status `status`.
    pub fn count(&self, status: u16) -> u64 {
        self.statuses.get(&status).copied().unwrap_or(0)
    }

    /// Answers with a status in `range` (e.g. `500..600`).
    pub fn count_in(&self, range: std::ops::Range<u16>) -> u64 {
        self.statuses
            .iter()
            .filter(|(s, _)| range.contains(s))
            .map(|(_, n)| n)
            .sum()
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(s, n)| format!("{s}×{n}"))
            .collect();
        write!(
            f,
            "{} requests in {:.1} s ({:.0}/s): [{}], transport errors {}, p50 {:.1} ms, p99 {:.1} ms",
            self.sent,
            self.elapsed.as_secs_f64(),
            self.sent as f64 / self.elapsed.as_secs_f64().max(1e-9),
            statuses.join(", "),
            self.transport_errors,
            self.p50.as_secs_f64() * 1000.0,
            self.p99.as_secs_f64() * 1000.0,
        )
    }
}

/// A load running in the background until [`Load::stop`].
#[derive(Debug)]
pub struct Load {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<LoadReport>,
}

#[derive(Default)]
struct WorkerTally {
    sent: u64,
    statuses: BTreeMap<u16, u64>,
    transport_errors: u64,
    latencies: Vec<Duration>,
}

impl Load {
    /// Starts `concurrency` workers against `base` (`http://127.0.0.1:PORT`), each sending
    /// `make(n)` requests back to back, `Host` set to the public host; `timeout` per request.
    pub fn start(
        base: &str,
        concurrency: usize,
        timeout: Duration,
        make: RequestMaker,
    ) -> anyhow::Result<Self> {
        passgate_idp::install_crypto_provider();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .pool_max_idle_per_host(concurrency)
            .build()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let stop = Arc::new(AtomicBool::new(false));
        let base = base.trim_end_matches('/').to_owned();
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            runtime.block_on(run(client, base, concurrency, make, stopped))
        });
        Ok(Self { stop, thread })
    }

    /// Runs for `duration` and reports (blocking).
    pub fn run_for(
        base: &str,
        concurrency: usize,
        duration: Duration,
        make: RequestMaker,
    ) -> anyhow::Result<LoadReport> {
        let load = Self::start(base, concurrency, Duration::from_secs(30), make)?;
        std::thread::sleep(duration);
        load.stop()
    }

    /// Stops the workers after their request in flight and reports.
    pub fn stop(self) -> anyhow::Result<LoadReport> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread
            .join()
            .map_err(|_| anyhow::anyhow!("the load thread panicked"))
    }
}

async fn run(
    client: reqwest::Client,
    base: String,
    concurrency: usize,
    make: RequestMaker,
    stop: Arc<AtomicBool>,
) -> LoadReport {
    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (client, base, make, stop, next) = (
            client.clone(),
            base.clone(),
            Arc::clone(&make),
            Arc::clone(&stop),
            Arc::clone(&next),
        );
        workers.push(tokio::spawn(async move {
            let mut tally = WorkerTally::default();
            while !stop.load(Ordering::SeqCst) {
                let spec = make(next.fetch_add(1, Ordering::Relaxed));
                let mut request = client
                    .request(spec.method, format!("{base}{}", spec.path))
                    .header("Host", PUBLIC_HOST)
                    .header("X-Forwarded-For", spec.client_ip);
                if let Some(body) = spec.body {
                    request = request.json(&body);
                }
                let sent_at = Instant::now();
                tally.sent += 1;
                match request.send().await {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        // Read the body so the connection is reused.
                        let _ = response.bytes().await;
                        tally.latencies.push(sent_at.elapsed());
                        *tally.statuses.entry(status).or_default() += 1;
                    }
                    Err(_) => {
                        tally.transport_errors += 1;
                        // Do not spin against a closed port.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
            tally
        }));
    }
    let mut report = LoadReport::default();
    let mut latencies = Vec::new();
    for worker in workers {
        if let Ok(tally) = worker.await {
            report.sent += tally.sent;
            report.transport_errors += tally.transport_errors;
            for (status, n) in tally.statuses {
                *report.statuses.entry(status).or_default() += n;
            }
            latencies.extend(tally.latencies);
        }
    }
    latencies.sort_unstable();
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p).round().max(0.0) as usize)
            .copied()
            .unwrap_or_default()
    };
    report.p50 = percentile(0.50);
    report.p99 = percentile(0.99);
    report.elapsed = started.elapsed();
    report
}
