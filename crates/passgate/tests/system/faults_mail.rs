//! Fault suite, mail group: a real `passgate serve`, `passgate idp-sim` and SMTP sink. The SMTP
//! relay is down (421 at the greeting) or refuses every message (451) for a long stretch
//! while reset requests for distinct users arrive; once it is back, every mail is delivered
//! exactly once (counted by recipient and `Message-ID`) and none is lost. The mails wait,
//! sealed, in the outbox and are retried with backoff.
//!
//! Gated: runs when `PASSGATE_FAULT_SUITE=1` (docs/fault-suite.md). The scenarios run one at
//! a time (the process lock of `passgate-testkit`, shared by every group): each starts its own processes on this small machine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use passgate_testbed::provider_faults::{
    ACME_CLIENT, acme_deployment, fault_suite_enabled, probes, wait_for_reset_mails,
};
use passgate_testbed::{ResetClient, SmtpMode, TestDatabase};

const PASSGATE: &str = env!("CARGO_BIN_EXE_passgate");
/// Distinct users asking for a reset while the relay is broken.
const USERS: usize = 32;

/// Breaks the relay with `mode` for `stretch` while `USERS` reset requests arrive, then
/// repairs it; every user must get exactly one reset mail.
fn relay_outage(name: &str, mode: SmtpMode, stretch: Duration, db: &TestDatabase) {
    let d = acme_deployment(
        PASSGATE,
        db.url(),
        USERS,
        &[("PASSGATE_RETRY_MAX_BACKOFF_SECS", "2")],
    )
    .unwrap();
    let users = &d.tenant("acme-shop").unwrap().users;
    let client = ResetClient::new(d.base()).unwrap();

    d.mail.set_mode(mode);
    let broken_at = Instant::now();
    let mut accepted = 0;
    for (i, email) in users.iter().enumerate() {
        // Spread over the stretch's first half, each user from its own address.
        let answer = client
            .clone()
            .from_ip(&format!("198.51.100.{}", i + 1))
            .request_reset(ACME_CLIENT, email)
            .unwrap();
        assert_eq!(answer.status, 202, "{email}: {}", answer.text);
        accepted += 1;
    }
    std::thread::sleep(stretch.saturating_sub(broken_at.elapsed()));
    let during = d.mail.received().len();
    let probes_during = probes(d.base());
    d.mail.set_mode(SmtpMode::Accept);
    let repaired_at = Instant::now();

    let tally = wait_for_reset_mails(
        &d.mail,
        users,
        Duration::from_secs(180),
        Duration::from_secs(3),
    );
    let caught_up = repaired_at.elapsed();
    println!(
        "fault {name}: requests {accepted}, 202 {accepted}, relay broken {:.0} s, delivered \
         while broken {during}, {tally}, all delivered {:.1} s after repair, probes {probes_during:?}",
        stretch.as_secs_f64(),
        caught_up.as_secs_f64(),
    );
    assert_eq!(during, 0);
    assert!(tally.exactly_once(), "{tally:?}\n{}", d.logs());
    assert_eq!(probes_during, (200, 200));
}

#[test]
fn smtp_down_for_a_long_stretch_every_mail_once() {
    if !fault_suite_enabled("smtp_down") {
        return;
    }
    let _serial = passgate_testkit::process_lock::serial();
    let db = TestDatabase::sqlite().unwrap();
    relay_outage("smtp-down", SmtpMode::Down, Duration::from_secs(25), &db);
}

#[test]
fn smtp_refusing_451_for_a_stretch_every_mail_once() {
    if !fault_suite_enabled("smtp_451") {
        return;
    }
    let _serial = passgate_testkit::process_lock::serial();
    let db = TestDatabase::sqlite().unwrap();
    relay_outage(
        "smtp-451",
        SmtpMode::RejectTransient,
        Duration::from_secs(15),
        &db,
    );
}

#[test]
fn smtp_down_on_postgres_every_mail_once() {
    if !fault_suite_enabled("smtp_down_postgres") {
        return;
    }
    let Some(db) = TestDatabase::postgres("faults mail smtp down").unwrap() else {
        println!("skipped smtp_down_postgres: PASSGATE_TEST_POSTGRES_URL is unset");
        return;
    };
    let _serial = passgate_testkit::process_lock::serial();
    relay_outage(
        "smtp-down-postgres",
        SmtpMode::Down,
        Duration::from_secs(20),
        &db,
    );
}
