//! Two replicas: two `passgate serve` processes on one PostgreSQL database, requests
//! alternating between them. The scenario proves that the rate limits hold in total (they are
//! counted in the database, not per process), that a configuration change published through
//! one replica is served by the other within a second (`LISTEN/NOTIFY` drops its cached
//! tenant), and that a token issued by one replica is redeemed at the other, once.
//!
//! Gated: runs when `PASSGATE_FAULT_SUITE=1` (docs/fault-suite.md) and
//! `PASSGATE_TEST_POSTGRES_URL` is set (two replicas need a shared server).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use passgate_testbed::provider_faults::{
    ACME_CLIENT, fault_suite_enabled, mint_link_token, problem_slug, reset_mails, wait_until,
    workspace_root,
};
use passgate_testbed::replica_checks::{policy_field, time_until};
use passgate_testbed::{Deployment, DeploymentOptions, ResetClient, TestDatabase};
use serde_json::json;

const PASSGATE: &str = env!("CARGO_BIN_EXE_passgate");
const NEW_PASSWORD: &str = "Velvet-Harbor-Quartz-71";
/// Completion attempts allowed per client address per hour in this deployment.
const REDEEM_PER_IP: u32 = 6;

fn deploy(db: &TestDatabase) -> Deployment {
    let root = workspace_root();
    let mut options = DeploymentOptions::new(PASSGATE, &root, db.url());
    options.tenant_files = vec![root.join("tenants/acme-shop.yaml")];
    options.users_per_tenant = 4;
    options.replicas = 2;
    options.env = vec![
        (
            "PASSGATE_REDEEM_PER_IP_PER_HOUR".into(),
            REDEEM_PER_IP.to_string(),
        ),
        ("PASSGATE_RETRY_MAX_BACKOFF_SECS".into(), "2".into()),
    ];
    Deployment::start(options).unwrap()
}

/// A client of each replica, as seen from `ip`.
fn clients(deployment: &Deployment, ip: &str) -> [ResetClient; 2] {
    [0, 1].map(|i| {
        ResetClient::new(&deployment.gateways[i].base)
            .unwrap()
            .from_ip(ip)
    })
}

#[test]
fn two_replicas_share_limits_config_and_tokens() {
    // Alone, as in the binary of its own it had: it starts its own processes.
    let _serial = passgate_testkit::process_lock::serial();
    let name = "replicas";
    if !fault_suite_enabled(name) {
        return;
    }
    let Some(db) = TestDatabase::postgres(name).unwrap() else {
        return;
    };
    let deployment = deploy(&db);
    let acme = deployment.tenant("acme-shop").unwrap();
    let per_account = acme.config.rate_limits.requests_per_account_per_hour;

    // 1a. Request limit per account, counted across replicas: 2 × the limit, alternating,
    // each from its own address (so only the account bucket can refuse).
    let account = &acme.users[0];
    let requests = 2 * per_account;
    let mut statuses = Vec::new();
    for i in 0..requests {
        let client = &clients(&deployment, &format!("198.51.100.{}", 20 + i))[(i % 2) as usize];
        statuses.push(client.request_reset(ACME_CLIENT, account).unwrap().status);
    }
    let expected = usize::try_from(per_account).unwrap();
    let reached = wait_until(Duration::from_secs(60), Duration::from_millis(100), || {
        reset_mails(&deployment.mail.received_for(account)).len() >= expected
    });
    // Time for a mail over the limit to show, if one were coming.
    std::thread::sleep(Duration::from_secs(5));
    let mailed = reset_mails(&deployment.mail.received_for(account)).len();
    println!(
        "replicas request-limit: {requests} requests for one account alternating replicas, \
         answers {statuses:?}, mails {mailed} (limit {per_account} per account per hour)"
    );
    assert!(statuses.iter().all(|s| *s == 202), "{statuses:?}");
    assert!(reached, "only {mailed} of {expected} mails arrived");
    assert_eq!(mailed, expected, "the account limit must hold in total");

    // 1b. Completion limit per address, across replicas: attempts with a dead link from one
    // address, alternating; the limit's worth answer 410, the rest 429 wherever they land.
    let limited = clients(&deployment, "203.0.113.50");
    let mut attempts = Vec::new();
    for i in 0..REDEEM_PER_IP + 2 {
        let answer = limited[(i % 2) as usize]
            .complete("bm90LWEtcmVhbC10b2tlbi1hdC1hbGwtbm8", NEW_PASSWORD)
            .unwrap();
        attempts.push(answer.status);
    }
    println!(
        "replicas redeem-limit: {} attempts from one address alternating replicas → {attempts:?} \
         (limit {REDEEM_PER_IP} per address per hour)",
        attempts.len()
    );
    let allowed = usize::try_from(REDEEM_PER_IP).unwrap();
    assert!(
        attempts[..allowed].iter().all(|s| *s == 410),
        "{attempts:?}"
    );
    assert!(
        attempts[allowed..].iter().all(|s| *s == 429),
        "{attempts:?}"
    );

    // 2. A config change through replica 0 is served by replica 1 within a second. Replica 1
    // has the old version cached (it just served it).
    let [r0, r1] = clients(&deployment, "198.51.100.90");
    assert_eq!(policy_field(&r1, ACME_CLIENT, "min_length"), json!(12));
    assert_eq!(policy_field(&r0, ACME_CLIENT, "min_length"), json!(12));
    let admin = deployment.admin(0).unwrap();
    let (yaml, etag) = admin.config("acme-shop").unwrap();
    let changed = yaml.replacen("min_length: 12", "min_length: 16", 1);
    let published = admin.put_config("acme-shop", &changed, &etag).unwrap();
    assert_eq!(published.status, 201, "{}", published.text);
    let acknowledged = Instant::now();
    let delay = time_until(Duration::from_secs(1), || {
        policy_field(&r1, ACME_CLIENT, "min_length") == json!(16)
    });
    let seen_late = delay.is_none().then(|| {
        time_until(Duration::from_secs(90), || {
            policy_field(&r1, ACME_CLIENT, "min_length") == json!(16)
        })
        .map(|_| acknowledged.elapsed())
    });
    println!(
        "replicas config-change: published on replica 0 ({}), served by replica 1 after {}",
        published.status,
        match (delay, seen_late) {
            (Some(d), _) => format!("{:.0} ms", d.as_secs_f64() * 1000.0),
            (None, Some(Some(late))) => format!("{:.1} s (late)", late.as_secs_f64()),
            _ => "never".to_owned(),
        }
    );
    assert!(
        delay.is_some(),
        "replica 1 still served the old rules 1 s after the change: {}",
        deployment.logs()
    );

    // 3. A token issued by replica 0 is redeemed at replica 1, once; the replay at replica 0
    // finds it spent. A fresh address: the one above is over its completion limit.
    let user = &acme.users[1];
    let [r0, r1] = clients(&deployment, "198.51.100.91");
    let token = mint_link_token(&r0, &deployment.mail, ACME_CLIENT, user).unwrap();
    let inspected = r1.inspect(&token).unwrap();
    let completed = r1.complete(&token, NEW_PASSWORD).unwrap();
    let replay = r0.complete(&token, NEW_PASSWORD).unwrap();
    let changes = deployment.sim.password_changes(user).unwrap();
    println!(
        "replicas token: issued via replica 0, inspected at replica 1 {}, completed at replica 1 \
         {}, replayed at replica 0 {} {}, provider password changes {changes}",
        inspected.status,
        completed.status,
        replay.status,
        problem_slug(&replay.json)
    );
    assert_eq!(inspected.status, 200, "{}", inspected.text);
    assert_eq!(completed.status, 200, "{}", completed.text);
    assert_eq!(replay.status, 410, "{}", replay.text);
    assert_eq!(problem_slug(&replay.json), "invalid-link");
    assert_eq!(changes, 1);
}
