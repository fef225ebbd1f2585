//! Fault suite, concurrency group: a real `passgate serve`, `passgate idp-sim` and SMTP sink.
//! The scenarios prove that one replica holds 1,000 concurrent keep-alive connections (all
//! answered, twice each, while an ordinary client still gets the request page and the
//! probes stay green), and that 1,000 concurrent completions of one link token change the
//! provider password exactly once: one 200, every other answer a refusal.
//!
//! Gated: runs when `PASSGATE_FAULT_SUITE=1` (docs/fault-suite.md). The scenarios run one at
//! a time (the process lock of `passgate-testkit`, shared by every group): each starts its own processes on this small machine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;

use std::time::{Duration, Instant};

use passgate_testbed::connections::{HeldConnections, get_request, post_json_request};
use passgate_testbed::provider_faults::{
    ACME_CLIENT, acme_deployment, fault_suite_enabled, mint_link_token, probes, problem_slug,
};
use passgate_testbed::{PUBLIC_HOST, ResetClient, TestDatabase};

const PASSGATE: &str = env!("CARGO_BIN_EXE_passgate");
const CONNECTIONS: usize = 1_000;
const NEW_PASSWORD: &str = "Velvet-Harbor-Quartz-71";

fn addr_of(base: &str) -> SocketAddr {
    base.trim_start_matches("http://").parse().unwrap()
}

#[test]
fn thousand_connections_held_and_answered() {
    if !fault_suite_enabled("thousand_connections") {
        return;
    }
    let _serial = passgate_testkit::process_lock::serial();
    let db = TestDatabase::sqlite().unwrap();
    let d = acme_deployment(PASSGATE, db.url(), 1, &[]).unwrap();
    let client = ResetClient::new(d.base()).unwrap();

    let mut held =
        HeldConnections::open(addr_of(d.base()), CONNECTIONS, Duration::from_secs(60)).unwrap();
    let first = held.round(|_| get_request("/healthz", PUBLIC_HOST));
    // Every connection is open and idle now; an ordinary visitor still gets the page.
    let started = Instant::now();
    let page = client.request_page(ACME_CLIENT).unwrap();
    let page_took = started.elapsed();
    let page_path = format!("/reset?client_id={ACME_CLIENT}");
    let second = held.round(|_| get_request(&page_path, PUBLIC_HOST));
    let still_open = held.open_count();
    drop(held);
    let after = probes(d.base());
    println!(
        "fault thousand-connections: connections {CONNECTIONS}, first round 200 {} errors {}, \
         request page on a fresh connection {} in {:.1} ms, second round (request page, same \
         connections) 200 {} errors {}, still open {still_open}, probes after {after:?}",
        first.count(200),
        first.errors,
        page.status,
        page_took.as_secs_f64() * 1000.0,
        second.count(200),
        second.errors,
    );
    assert_eq!(first.count(200), CONNECTIONS, "{:?}", first.statuses);
    assert_eq!(page.status, 200);
    assert_eq!(second.count(200), CONNECTIONS, "{:?}", second.statuses);
    assert_eq!(still_open, CONNECTIONS);
    assert_eq!(after, (200, 200));
}

/// Mints one link token and fires `CONNECTIONS` completions of it at once, each from its
/// own address; exactly one may change the password.
fn thousand_redemptions(name: &str, db: &TestDatabase) {
    let d = acme_deployment(
        PASSGATE,
        db.url(),
        1,
        &[
            ("PASSGATE_REDEEM_PER_IP_PER_HOUR", "10000"),
            ("PASSGATE_REDEEM_PER_TENANT_PER_MINUTE", "10000"),
        ],
    )
    .unwrap();
    let client = ResetClient::new(d.base()).unwrap();
    let email = &d.tenant("acme-shop").unwrap().users[0];
    let token = mint_link_token(&client, &d.mail, ACME_CLIENT, email).unwrap();
    let before = d.sim.password_changes(email).unwrap();

    let mut held =
        HeldConnections::open(addr_of(d.base()), CONNECTIONS, Duration::from_secs(120)).unwrap();
    let path = format!("/v1/password-resets/{token}/complete");
    let body =
        serde_json::json!({ "password": NEW_PASSWORD, "password_confirmation": NEW_PASSWORD })
            .to_string();
    let started = Instant::now();
    let round = held.round(|i| {
        let ip = format!("10.{}.{}.{}", i / 65_536, (i / 256) % 256, i % 256 + 1);
        post_json_request(&path, PUBLIC_HOST, &ip, &body)
    });
    let took = started.elapsed();
    drop(held);
    let changes = d.sim.password_changes(email).unwrap() - before;
    let mut slugs = std::collections::BTreeMap::<String, usize>::new();
    for answer in round.answers.iter().flatten() {
        let json: serde_json::Value = serde_json::from_str(&answer.body).unwrap_or_default();
        *slugs
            .entry(format!("{} {}", answer.status, problem_slug(&json)))
            .or_default() += 1;
    }
    let again = client.complete(&token, NEW_PASSWORD).unwrap();
    println!(
        "fault {name}: completions {CONNECTIONS} in {:.1} s, answers {slugs:?}, transport errors {}, \
         password changes {changes}, a later completion {}",
        took.as_secs_f64(),
        round.errors,
        again.status,
    );
    assert_eq!(round.count(200), 1, "{slugs:?}\n{}", d.logs());
    assert_eq!(changes, 1);
    assert_eq!(round.errors, 0);
    assert_eq!(
        round.count(200) + round.count(410) + round.count(429) + round.count(503),
        CONNECTIONS,
        "{slugs:?}"
    );
    assert_eq!(again.status, 410);
    assert_eq!(probes(d.base()), (200, 200));
}

#[test]
fn thousand_concurrent_redemptions_one_change_sqlite() {
    if !fault_suite_enabled("thousand_redemptions_sqlite") {
        return;
    }
    let _serial = passgate_testkit::process_lock::serial();
    let db = TestDatabase::sqlite().unwrap();
    thousand_redemptions("thousand-redemptions-sqlite", &db);
}

#[test]
fn thousand_concurrent_redemptions_one_change_postgres() {
    if !fault_suite_enabled("thousand_redemptions_postgres") {
        return;
    }
    let Some(db) = TestDatabase::postgres("faults thousand redemptions").unwrap() else {
        println!("skipped thousand_redemptions_postgres: PASSGATE_TEST_POSTGRES_URL is unset");
        return;
    };
    let _serial = passgate_testkit::process_lock::serial();
    thousand_redemptions("thousand-redemptions-postgres", &db);
}
