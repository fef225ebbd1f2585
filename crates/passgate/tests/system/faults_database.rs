//! Fault suite, database group: a private PostgreSQL server is stopped and started again
//! under a running `passgate serve` that is never restarted. The scenario proves that during
//! the outage the gateway answers clean 503s (no hang past the pool's timeout, no exit, the
//! liveness probe still 200), that it recovers by itself (readiness 200, requests 202 again),
//! and that every reset request it accepted with 202 was mailed exactly once: no job or
//! outbox row was lost in the restart, and the queues drain to `done`/`sent`.
//!
//! Gated: runs when `PASSGATE_FAULT_SUITE=1` (docs/fault-suite.md); skipped with a message
//! when the PostgreSQL server binaries are not installed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use passgate_testbed::database::psql;
use passgate_testbed::provider_faults::{
    ACME_CLIENT, MailTally, acme_deployment, fault_suite_enabled, probes, wait_until,
};
use passgate_testbed::replica_checks::page_and_policy_reads;
use passgate_testbed::{Load, PrivatePostgres, ResetClient};

const PASSGATE: &str = env!("CARGO_BIN_EXE_passgate");
/// Seeded users: more than the requests the scenario sends, so every request is for a
/// distinct existing account (the per-account limit never hides a lost mail).
const USERS: usize = 1500;
/// How long the database stays down.
const OUTAGE: Duration = Duration::from_secs(35);

/// One reset request the driver sent: the account, the status (0: no HTTP answer) and how
/// long the answer took.
struct Sent {
    email: String,
    status: u16,
    latency: Duration,
    during_outage: bool,
}

/// Sends reset requests for distinct accounts from distinct addresses on `workers` threads
/// until `stop`, recording every answer (the [`Load`] report counts statuses but the mail
/// check needs to know which account each 202 was for).
fn reset_driver(
    base: &str,
    workers: usize,
    stop: &Arc<AtomicBool>,
    outage: &Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<Vec<Sent>>> {
    let next = Arc::new(Mutex::new(0_usize));
    (0..workers)
        .map(|_| {
            let client = ResetClient::new(base).unwrap();
            let (stop, outage, next) = (Arc::clone(stop), Arc::clone(outage), Arc::clone(&next));
            std::thread::spawn(move || {
                let mut sent = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    let n = {
                        let mut next = next.lock().unwrap_or_else(PoisonError::into_inner);
                        *next += 1;
                        *next - 1
                    };
                    if n + 1 >= USERS {
                        break;
                    }
                    let email = format!("user{n}@acme-shop.example.com");
                    let ip = format!("10.7.{}.{}", n / 250, n % 250 + 1);
                    let during_outage = outage.load(Ordering::SeqCst);
                    let started = Instant::now();
                    let status = client
                        .clone()
                        .from_ip(&ip)
                        .request_reset(ACME_CLIENT, &email)
                        .map_or(0, |a| a.status);
                    sent.push(Sent {
                        email,
                        status,
                        latency: started.elapsed(),
                        during_outage: during_outage || outage.load(Ordering::SeqCst),
                    });
                }
                sent
            })
        })
        .collect()
}

fn statuses(sent: &[&Sent]) -> BTreeMap<u16, usize> {
    let mut map = BTreeMap::new();
    for s in sent {
        *map.entry(s.status).or_default() += 1;
    }
    map
}

#[test]
fn postgres_restarted_mid_traffic() {
    // Alone, as in the binary of its own it had: it starts its own processes.
    let _serial = passgate_testkit::process_lock::serial();
    let name = "database postgres-restart";
    if !fault_suite_enabled(name) {
        return;
    }
    let Some(mut pg) = PrivatePostgres::start(name).unwrap() else {
        return;
    };
    let mut deployment = acme_deployment(
        PASSGATE,
        &pg.url(),
        USERS,
        &[("PASSGATE_RETRY_MAX_BACKOFF_SECS", "2")],
    )
    .unwrap();
    let base = deployment.base().to_owned();

    let stop = Arc::new(AtomicBool::new(false));
    let outage = Arc::new(AtomicBool::new(false));
    let drivers = reset_driver(&base, 4, &stop, &outage);
    let pages = Load::start(
        &base,
        2,
        Duration::from_secs(60),
        page_and_policy_reads(ACME_CLIENT, "192.0.2.10"),
    )
    .unwrap();

    std::thread::sleep(Duration::from_secs(5));
    outage.store(true, Ordering::SeqCst);
    pg.stop().unwrap();
    let down_at = Instant::now();
    std::thread::sleep(Duration::from_secs(2));
    let (health_down, ready_down) = probes(&base);
    // Longer than the pool's 30 s acquire timeout, so requests waiting for a connection are
    // answered 503 and the workers' writes fail, not merely wait.
    std::thread::sleep(OUTAGE.saturating_sub(down_at.elapsed()));
    pg.restart().unwrap();
    let up_at = Instant::now();
    let outage_len = up_at - down_at;
    let recovered = wait_until(Duration::from_secs(60), Duration::from_millis(100), || {
        probes(&base).1 == 200
    });
    let ready_after = up_at.elapsed();
    outage.store(false, Ordering::SeqCst);
    std::thread::sleep(Duration::from_secs(5));
    stop.store(true, Ordering::SeqCst);
    let sent: Vec<Sent> = drivers
        .into_iter()
        .flat_map(|d| d.join().unwrap())
        .collect();
    let page_report = pages.stop().unwrap();
    // A request after recovery, for the one account the driver never asks for, from a fresh
    // address, must be accepted (and mailed).
    let last_user = format!("user{}@acme-shop.example.com", USERS - 1);
    let after = ResetClient::new(&base)
        .unwrap()
        .from_ip("10.8.0.1")
        .request_reset(ACME_CLIENT, &last_user)
        .unwrap();

    let all: Vec<&Sent> = sent.iter().collect();
    let during: Vec<&Sent> = sent.iter().filter(|s| s.during_outage).collect();
    let before_after: Vec<&Sent> = sent.iter().filter(|s| !s.during_outage).collect();
    let accepted: Vec<String> = sent
        .iter()
        .filter(|s| s.status == 202)
        .map(|s| s.email.clone())
        .collect();
    let slowest_outage = during.iter().map(|s| s.latency).max().unwrap_or_default();

    // Every accepted request's mail, then a few seconds for a late duplicate to show.
    let mut expected = accepted;
    if after.status == 202 {
        expected.push(last_user.clone());
    }
    expected.sort();
    expected.dedup();
    wait_until(Duration::from_secs(120), Duration::from_millis(250), || {
        MailTally::count(&deployment.mail, &expected)
            .lost
            .is_empty()
    });
    let queues_drained = wait_until(Duration::from_secs(60), Duration::from_millis(250), || {
        let pending = psql(
            &pg.url(),
            "select (select count(*) from reset_jobs where status <> 'done') \
             + (select count(*) from mail_outbox where status <> 'sent')",
        );
        pending.is_ok_and(|p| p == "0")
    });
    std::thread::sleep(Duration::from_secs(3));
    let tally = MailTally::count(&deployment.mail, &expected);
    let jobs = psql(
        &pg.url(),
        "select status || ' ' || count(*) from reset_jobs group by status order by 1",
    )
    .unwrap();
    let outbox = psql(
        &pg.url(),
        "select status || ' ' || count(*) from mail_outbox group by status order by 1",
    )
    .unwrap();
    let outbox_rows: usize = psql(&pg.url(), "select count(*) from mail_outbox")
        .unwrap()
        .parse()
        .unwrap();
    // Recipients mailed although their request was not answered 202 (a commit whose answer
    // was lost): allowed once, reported.
    let unexpected: usize = tally.extra.keys().filter(|k| !expected.contains(k)).count();
    let duplicated: usize = tally
        .extra
        .iter()
        .filter(|(k, n)| expected.contains(k) || **n > 1)
        .count();
    let alive = deployment.gateways[0].child.is_running();

    println!(
        "fault postgres-restart: requests {}, [{:?}] (during outage {:?}, before/after {:?}), \
         transport errors {}, slowest outage answer {:.1} s, outage {:.1} s, ready again {:.1} s \
         after restart; probes during outage healthz {health_down} readyz {ready_down}; \
         pages {page_report}; {tally}, mailed without 202 {unexpected}, outbox rows \
         {outbox_rows} [{}], jobs [{}], lost {}",
        all.len(),
        statuses(&all),
        statuses(&during),
        statuses(&before_after),
        statuses(&all).get(&0).copied().unwrap_or(0),
        slowest_outage.as_secs_f64(),
        outage_len.as_secs_f64(),
        ready_after.as_secs_f64(),
        outbox.replace('\n', ", "),
        jobs.replace('\n', ", "),
        tally.lost.len(),
    );

    let logs = deployment.logs();
    assert!(alive, "the gateway exited: {logs}");
    assert!(recovered, "readyz never came back to 200: {logs}");
    assert_eq!(after.status, 202, "after recovery: {}", after.text);
    assert_eq!(
        health_down, 200,
        "liveness must hold while the database is down"
    );
    assert_eq!(
        ready_down, 503,
        "readiness must drop while the database is down"
    );
    for s in &all {
        assert!(
            s.status == 202 || s.status == 503,
            "{}: answered {} (0 = no answer) after {:?}",
            s.email,
            s.status,
            s.latency
        );
    }
    assert!(
        during.iter().any(|s| s.status == 503),
        "the outage was not seen: {:?}",
        statuses(&during)
    );
    assert!(
        before_after.iter().filter(|s| s.status == 202).count() > 10,
        "too few accepted requests around the outage: {:?}",
        statuses(&before_after)
    );
    assert_eq!(page_report.transport_errors, 0, "pages: {page_report}");
    assert_eq!(
        page_report.count_in(500..503) + page_report.count_in(504..600),
        0,
        "pages: {page_report}"
    );
    assert!(tally.lost.is_empty(), "lost mails: {:?}", tally.lost);
    assert_eq!(duplicated, 0, "mails sent twice: {:?}", tally.extra);
    assert_eq!(
        tally.repeated_message_ids, 0,
        "a message was delivered twice"
    );
    assert!(
        queues_drained,
        "queues not drained: jobs [{jobs}], outbox [{outbox}]"
    );
    deployment.gateways[0]
        .child
        .terminate(Duration::from_secs(30))
        .unwrap();
}
