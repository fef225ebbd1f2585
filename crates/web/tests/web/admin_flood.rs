//! Issue 13, finding 2: "two concurrent validates of a looping script took 4 s each and
//! `GET /healthz` took 3.6 s". A real server on a two-worker runtime (this machine's size)
//! serves `/healthz` beside the admin API; three editors validate a document whose script
//! loops in every example, at once, while a probe measures `/healthz` and another tenant's
//! password check runs. Document checks must stay off the executor: `/healthz` keeps its
//! idle latency (p99 under 250 ms while one validate takes seconds) and the other tenant's
//! check keeps succeeding. Latencies are compared within this one run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::admin_common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use admin_common::harness_with;
use passgate_policy::{CheckContext, CompiledPolicy, check};
use passgate_web::admin::{AdminSettings, routes};
use poem::listener::TcpAcceptor;
use poem::{Route, Server, handler};

const VALIDATES: usize = 3;
const HEALTHZ_P99_LIMIT: Duration = Duration::from_millis(250);
/// Probes run one after another, so one stalled probe is one sample however long it
/// stalls: the slowest probe is bounded too (generously).
const HEALTHZ_MAX_LIMIT: Duration = Duration::from_secs(1);

/// Another tenant's document: a harmless script rule.
const BETA: &str = r#"
id: beta
display_name: Beta
client_ids: [beta-ios]
theme: default
locales:
  default: en
  supported: [en]
password_policy:
  min_length: 15
  script:
    source: |
      function validate(password, ctx) {
        return password.indexOf("beta") >= 0 ? ["beta.no_name"] : [];
      }
    timeout_ms: 50
messages:
  en:
    beta.no_name: "No app name, please."
"#;

#[handler]
fn healthz() -> &'static str {
    "ok"
}

/// One HTTP/1.1 exchange on a fresh connection; the status code.
fn exchange(addr: SocketAddr, request: &[u8]) -> u16 {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let head = String::from_utf8_lossy(&response[..response.len().min(64)]).into_owned();
    head.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn healthz_once(addr: SocketAddr) -> Duration {
    let started = Instant::now();
    let status = exchange(
        addr,
        b"GET /healthz HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200);
    started.elapsed()
}

fn validate_once(addr: SocketAddr, key: &str, yaml: &str) -> (u16, Duration) {
    let request = format!(
        "POST /admin/v1/tenants/alpha/config/validate HTTP/1.1\r\nHost: gw.test\r\n\
         Authorization: Bearer {key}\r\nContent-Type: application/yaml\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{yaml}",
        yaml.len()
    );
    let started = Instant::now();
    let status = exchange(addr, request.as_bytes());
    (status, started.elapsed())
}

fn p99(samples: &mut [Duration]) -> Duration {
    samples.sort();
    let at = (samples.len() * 99).div_ceil(100).saturating_sub(1);
    samples[at.min(samples.len() - 1)]
}

/// Checks a good password against the other tenant's policy; `true` if it passed.
fn beta_check(policy: &CompiledPolicy) -> bool {
    let ctx = CheckContext::new("Beta", "en").with_email("user@beta.example");
    check(policy, "violet kestrel harbour 1987 lantern", &ctx).is_empty()
}

struct Figures {
    idle_p99: Duration,
    flood_p99: Duration,
    flood_max: Duration,
    probes: usize,
    validates: Vec<(u16, Duration)>,
    beta_checks: usize,
    beta_failures: usize,
    beta_max: Duration,
}

fn flood(addr: SocketAddr, key: String, looping: String, beta: CompiledPolicy) -> Figures {
    let mut idle: Vec<Duration> = (0..40).map(|_| healthz_once(addr)).collect();
    let idle_p99 = p99(&mut idle);
    assert!(
        beta_check(&beta),
        "the other tenant's check fails even when idle"
    );

    let running = Arc::new(AtomicBool::new(true));
    let validators: Vec<_> = (0..VALIDATES)
        .map(|_| {
            let (key, looping) = (key.clone(), looping.clone());
            std::thread::spawn(move || validate_once(addr, &key, &looping))
        })
        .collect();
    let checker = {
        let running = running.clone();
        std::thread::spawn(move || {
            let (mut checks, mut failures, mut slowest) = (0, 0, Duration::ZERO);
            while running.load(Ordering::SeqCst) {
                let started = Instant::now();
                if !beta_check(&beta) {
                    failures += 1;
                }
                slowest = slowest.max(started.elapsed());
                checks += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            (checks, failures, slowest)
        })
    };
    // Let the validates reach the server, then probe until they are all answered.
    std::thread::sleep(Duration::from_millis(150));
    let mut during = Vec::new();
    while validators.iter().any(|v| !v.is_finished()) {
        during.push(healthz_once(addr));
        std::thread::sleep(Duration::from_millis(20));
    }
    let validates: Vec<(u16, Duration)> =
        validators.into_iter().map(|v| v.join().unwrap()).collect();
    running.store(false, Ordering::SeqCst);
    let (beta_checks, beta_failures, beta_max) = checker.join().unwrap();
    let probes = during.len();
    let flood_max = during.iter().copied().max().unwrap_or_default();
    Figures {
        idle_p99,
        flood_p99: if during.is_empty() {
            Duration::ZERO
        } else {
            p99(&mut during)
        },
        flood_max,
        probes,
        validates,
        beta_checks,
        beta_failures,
        beta_max,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_looping_validates_leave_healthz_fast_and_other_tenants_checking() {
    let h = harness_with(AdminSettings {
        requests_per_minute: 10_000,
        expensive_requests_per_minute: 10_000,
        ..AdminSettings::default()
    })
    .await;
    let resp = h
        .client
        .get("/admin/v1/tenants/alpha/config")
        .header("Authorization", admin_common::bearer(&h.editor))
        .send()
        .await;
    let yaml = resp.0.into_body().into_string().await.unwrap();
    let examples: String = (0..4)
        .map(|i| {
            format!("      - password: \"example number {i} of the loop\"\n        expect: []\n")
        })
        .collect();
    let looping = format!(
        "{yaml}password_policy:\n  script:\n    source: |\n      function validate(p, ctx) {{ while (true) {{}} }}\n    examples:\n{examples}"
    );
    let beta = passgate_tenant::parse_tenant_yaml("beta.yaml", BETA)
        .unwrap()
        .policy;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Route::new()
        .at("/healthz", healthz)
        .nest("/admin", routes(h.state.clone()));
    let server = tokio::spawn(
        Server::new_with_acceptor(TcpAcceptor::from_tokio(listener).unwrap()).run(app),
    );

    let key = h.editor.clone();
    // The probes run on their own threads: what they measure is the server, not a client
    // stuck on the same executor.
    let f = tokio::task::spawn_blocking(move || flood(addr, key, looping, beta))
        .await
        .unwrap();
    server.abort();

    let longest = f
        .validates
        .iter()
        .map(|(_, d)| *d)
        .max()
        .unwrap_or_default();
    println!(
        "validate flood: {VALIDATES} concurrent validates answered {:?}; /healthz idle p99 \
         {:.1} ms, during the flood p99 {:.1} ms (max {:.1} ms, {} probes); other tenant's \
         check: {} runs, {} failed, slowest {:.1} ms",
        f.validates
            .iter()
            .map(|(s, d)| format!("{s} in {:.2} s", d.as_secs_f64()))
            .collect::<Vec<_>>(),
        f.idle_p99.as_secs_f64() * 1e3,
        f.flood_p99.as_secs_f64() * 1e3,
        f.flood_max.as_secs_f64() * 1e3,
        f.probes,
        f.beta_checks,
        f.beta_failures,
        f.beta_max.as_secs_f64() * 1e3,
    );
    // The flood was real: a looping document keeps a check (or the requests waiting for
    // a slot) busy for a long while.
    assert!(
        longest >= Duration::from_millis(300),
        "the looping validates were answered too fast to prove anything: {longest:?}"
    );
    assert!(
        f.probes >= 5,
        "too few probes during the flood: {}",
        f.probes
    );
    assert!(
        f.flood_p99 < HEALTHZ_P99_LIMIT
            && f.flood_max < HEALTHZ_MAX_LIMIT
            && f.flood_max * 2 < longest,
        "/healthz stalled while tenant documents were checked: p99 {:?}, max {:?} during the \
         flood (idle p99 {:?}), a validate took {longest:?}",
        f.flood_p99,
        f.flood_max,
        f.idle_p99
    );
    assert!(f.beta_checks > 0);
    assert_eq!(
        f.beta_failures, 0,
        "the other tenant's password checks failed during the flood"
    );
}
