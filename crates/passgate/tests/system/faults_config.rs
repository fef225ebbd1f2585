//! Fault suite, configuration group: a real `passgate serve` under load while a tenant's
//! configuration or script misbehaves. The scenarios prove that malformed or invalid YAML
//! pushed through the admin API is refused with its positions and changes nothing (the old
//! configuration keeps serving, no 5xx, the active version stays), and that a tenant's script
//! that loops forever or eats memory fails that tenant's password checks cleanly (422, no
//! hang) while other tenants' pages keep answering and the gateway stays healthy.
//!
//! Gated: runs when `PASSGATE_FAULT_SUITE=1` (docs/fault-suite.md). The scenarios run one at
//! a time (the process lock of `passgate-testkit`, shared by every group): each starts its own processes on this small machine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use passgate_testbed::provider_faults::{
    ACME_CLIENT, acme_deployment, fault_suite_enabled, mint_link_token, probes, problem_slug,
    workspace_root,
};
use passgate_testbed::replica_checks::{page_and_policy_reads, policy_field};
use passgate_testbed::{Deployment, DeploymentOptions, Load, RequestSpec, ResetClient};
use passgate_testbed::{LoadReport, TestDatabase};
use serde_json::Value;

const PASSGATE: &str = env!("CARGO_BIN_EXE_passgate");
const GOOD_PASSWORD: &str = "Velvet-Harbor-Quartz-71";
/// Times each bad document is pushed while the load runs.
const ROUNDS: usize = 5;

/// Background reads of Acme Shop's request page and policy JSON, from two addresses.
fn acme_reads(base: &str) -> Load {
    Load::start(
        base,
        2,
        Duration::from_secs(30),
        page_and_policy_reads(ACME_CLIENT, "192.0.2.20"),
    )
    .unwrap()
}

fn min_length(client: &ResetClient) -> Value {
    policy_field(client, ACME_CLIENT, "min_length")
}

/// The malformed or invalid documents pushed at Acme Shop, by name.
fn bad_documents(active: &str) -> Vec<(&'static str, String)> {
    let with = |from: &str, to: &str| {
        assert!(active.contains(from), "the active YAML has no {from:?}");
        active.replacen(from, to, 1)
    };
    vec![
        ("syntax error", with("min_length: 12", "min_length: [12")),
        (
            "unknown key",
            with("password_policy:\n", "password_policy:\n  min_lenght: 14\n"),
        ),
        ("bad regex", with("\"(?i)acme\"", "\"(?i)acme(\"")),
        (
            "duplicate key",
            with("  min_length: 12\n", "  min_length: 12\n  min_length: 4\n"),
        ),
        ("wrong type", with("min_length: 12", "min_length: twelve")),
        (
            "huge document",
            format!("{active}\n{}", "# padding padding padding\n".repeat(40_000)),
        ),
    ]
}

#[test]
fn malformed_yaml_under_load_keeps_the_old_config() {
    let name = "config malformed-yaml";
    if !fault_suite_enabled(name) {
        return;
    }
    let _serial = passgate_testkit::process_lock::serial();
    let db = TestDatabase::sqlite().unwrap();
    let mut deployment = acme_deployment(PASSGATE, db.url(), 2, &[]).unwrap();
    let base = deployment.base().to_owned();
    let admin = deployment.admin(0).unwrap();
    let client = ResetClient::new(&base).unwrap().from_ip("192.0.2.22");
    let (active, etag) = admin.config("acme-shop").unwrap();
    assert_eq!(min_length(&client), 12);

    let load = acme_reads(&base);
    std::thread::sleep(Duration::from_secs(2));
    let mut refused = Vec::new();
    for round in 0..ROUNDS {
        for (what, yaml) in bad_documents(&active) {
            let answer = admin.put_config("acme-shop", &yaml, &etag).unwrap();
            assert!(
                matches!(answer.status, 400 | 413 | 422),
                "{what}: {} {}",
                answer.status,
                answer.text
            );
            if answer.status == 422 {
                let errors = answer.json["errors"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                assert!(
                    errors
                        .iter()
                        .any(|e| e["line"].as_u64().is_some_and(|l| l > 0)
                            && e["column"].as_u64().is_some()),
                    "{what}: no position in {}",
                    answer.text
                );
            }
            assert_eq!(
                min_length(&client),
                12,
                "{what}: the old rules must keep serving"
            );
            if round == 0 {
                let errors = answer.json["errors"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let first = errors
                    .into_iter()
                    .find(|e| e["severity"] == "error")
                    .unwrap_or_default();
                refused.push(format!(
                    "{what} → {} {} (line {}, col {})",
                    answer.status,
                    problem_slug(&answer.json),
                    first["line"],
                    first["column"]
                ));
            }
        }
    }
    let (_, etag_after) = admin.config("acme-shop").unwrap();
    let during = load.stop().unwrap();

    // A valid change is served at once (one replica: its own cache is dropped on write).
    let changed = active.replacen("min_length: 12", "min_length: 14", 1);
    let published = admin.put_config("acme-shop", &changed, &etag).unwrap();
    let served = min_length(&client);
    println!(
        "fault malformed-yaml: {} refused writes ({}); load {during}; version {etag} → {etag_after} \
         after the refusals, valid write {} → min_length {served}",
        refused.len() * ROUNDS,
        refused.join("; "),
        published.status
    );
    assert_eq!(
        etag_after, etag,
        "a refused write changed the active version"
    );
    assert_eq!(during.transport_errors, 0, "{during}");
    assert_eq!(during.count_in(500..600), 0, "5xx under load: {during}");
    assert_eq!(during.count(200), during.sent, "{during}");
    assert_eq!(published.status, 201, "{}", published.text);
    assert_eq!(served, 14);
    assert!(deployment.gateways[0].child.is_running());
}

/// A deployment of Acme Shop and the two misbehaving-script tenants, on SQLite.
fn script_deployment(db: &TestDatabase) -> Deployment {
    let root = workspace_root();
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut options = DeploymentOptions::new(PASSGATE, &root, db.url());
    options.tenant_files = vec![
        root.join("tenants/acme-shop.yaml"),
        fixtures.join("script-loop.yaml"),
        fixtures.join("script-heap.yaml"),
    ];
    options.users_per_tenant = 2;
    options.env = vec![
        // Every completion comes from its own address; the tenant ceiling must not be what
        // answers them.
        (
            "PASSGATE_REDEEM_PER_TENANT_PER_MINUTE".into(),
            "100000".into(),
        ),
    ];
    Deployment::start(options).unwrap()
}

/// The `reason` of the first `script_unavailable` violation in a 422 answer, if any.
fn script_failure(json: &Value) -> Option<String> {
    json["violations"].as_array()?.iter().find_map(|v| {
        (v["code"] == "script_unavailable").then(|| v["params"]["reason"].to_string())
    })
}

fn report_line(label: &str, report: &LoadReport) -> String {
    format!(
        "{label} p50 {:.1} ms p99 {:.1} ms ({} requests, non-200 {})",
        report.p50.as_secs_f64() * 1000.0,
        report.p99.as_secs_f64() * 1000.0,
        report.sent,
        report.sent - report.count(200)
    )
}

#[test]
fn runaway_scripts_under_load_leave_other_tenants_unaffected() {
    let name = "config runaway-script";
    if !fault_suite_enabled(name) {
        return;
    }
    let _serial = passgate_testkit::process_lock::serial();
    let db = TestDatabase::sqlite().unwrap();
    let mut deployment = script_deployment(&db);
    let base = deployment.base().to_owned();
    let client = ResetClient::new(&base).unwrap();
    let tokens: Vec<(String, String, &str)> = [
        ("script-loop-web", "user0@script-loop.example.com", "loop"),
        ("script-heap-web", "user0@script-heap.example.com", "heap"),
    ]
    .into_iter()
    .map(|(app, email, word)| {
        let token = mint_link_token(&client, &deployment.mail, app, email).unwrap();
        (token, email.to_owned(), word)
    })
    .collect();

    // One check each, to see how they fail.
    let mut reasons = Vec::new();
    for (i, (token, _, word)) in tokens.iter().enumerate() {
        let answer = client
            .clone()
            .from_ip(&format!("198.18.0.{}", i + 1))
            .complete(token, &format!("Velvet-{word}-Harbor-71"))
            .unwrap();
        assert_eq!(answer.status, 422, "{word}: {}", answer.text);
        let reason = script_failure(&answer.json);
        assert!(reason.is_some(), "{word}: {}", answer.text);
        reasons.push(format!("{word}: {}", reason.unwrap_or_default()));
    }

    let before = Load::run_for(
        &base,
        2,
        Duration::from_secs(5),
        page_and_policy_reads(ACME_CLIENT, "192.0.2.20"),
    )
    .unwrap();

    let bad_paths: Vec<(String, String)> = tokens
        .iter()
        .map(|(token, _, word)| {
            (
                format!("/v1/password-resets/{token}/complete"),
                format!("Velvet-{word}-Harbor-71"),
            )
        })
        .collect();
    let bad = Load::start(
        &base,
        4,
        Duration::from_secs(30),
        Arc::new(move |n| {
            let (path, password) = &bad_paths[usize::try_from(n % 2).unwrap_or(0)];
            RequestSpec::post(
                path.clone(),
                serde_json::json!({ "password": password, "password_confirmation": password }),
                format!("10.9.{}.{}", (n / 250) % 250, n % 250 + 1),
            )
        }),
    )
    .unwrap();
    let during_load = acme_reads(&base);
    let stop = Arc::new(AtomicBool::new(false));
    let health = {
        let (stop, base) = (Arc::clone(&stop), base.clone());
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                seen.push(probes(&base).0);
                std::thread::sleep(Duration::from_millis(500));
            }
            seen
        })
    };
    std::thread::sleep(Duration::from_secs(12));
    let during = during_load.stop().unwrap();
    let bad_report = bad.stop().unwrap();
    stop.store(true, Ordering::SeqCst);
    let healthz = health.join().unwrap();
    let after = Load::run_for(
        &base,
        2,
        Duration::from_secs(3),
        page_and_policy_reads(ACME_CLIENT, "192.0.2.20"),
    )
    .unwrap();

    // A link dies after `redeem_max_refusals` refused passwords (issue 13), so the flood spent
    // both links: they answer invalid-link now, and a fresh link completes with a good password.
    let mut completed = Vec::new();
    for (i, (token, email, word)) in tokens.iter().enumerate() {
        let spent = client
            .clone()
            .from_ip(&format!("198.18.1.{}", i + 1))
            .complete(token, GOOD_PASSWORD)
            .unwrap();
        assert_eq!(spent.status, 410, "{email}: {}", spent.text);
        let app = format!("script-{word}-web");
        let fresh = mint_link_token(&client, &deployment.mail, &app, email).unwrap();
        let answer = client
            .clone()
            .from_ip(&format!("198.18.1.{}", i + 1))
            .complete(&fresh, GOOD_PASSWORD)
            .unwrap();
        completed.push(answer.status);
        assert_eq!(answer.status, 200, "{email}: {}", answer.text);
        assert_eq!(deployment.sim.password_changes(email).unwrap(), 1);
    }
    let healthy = healthz.iter().filter(|s| **s == 200).count();
    println!(
        "fault runaway-script: failures [{}]; bad-tenant checks {bad_report}; other tenant {}, \
         {}, {}; healthz {healthy}/{} 200; good passwords afterwards {completed:?}",
        reasons.join(", "),
        report_line("before", &before),
        report_line("during", &during),
        report_line("after", &after),
        healthz.len(),
    );
    assert!(
        deployment.gateways[0].child.is_running(),
        "the gateway exited"
    );
    assert_eq!(healthy, healthz.len(), "healthz: {healthz:?}");
    for report in [&before, &during, &after] {
        assert_eq!(report.transport_errors, 0, "{report}");
        assert_eq!(report.count(200), report.sent, "other tenant: {report}");
    }
    assert_eq!(bad_report.transport_errors, 0, "a check hung: {bad_report}");
    // Refused (422), shed (503), or refused as a spent link (410) once the link has taken its
    // share of refusals: never a hang or a 500.
    assert_eq!(
        bad_report.count(422) + bad_report.count(503) + bad_report.count(410),
        bad_report.sent,
        "bad-tenant checks must fail cleanly: {bad_report}"
    );
    assert!(bad_report.count(422) > 0, "{bad_report}");
}
