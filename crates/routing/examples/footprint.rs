//! Where the resident memory of cached tenants goes: builds 10,000 tenant runtimes (or parts
//! of them) in a fresh process and prints the RSS growth per item. One mode per run, so the
//! allocator's leftovers from one measurement never pollute the next.
//!
//! ```sh
//! cargo run --release -p passgate-routing --example footprint -- [MODE]
//! ```
//! MODE: `resident` (the default: the 200 MiB goal, both figures in one run: for tenants
//! sharing one regex pattern and for tenants with a distinct pattern each, a child process
//! imports them into a fresh SQLite file, another fills a fresh router from it and prints the
//! RSS with all resident, then after one password check per tenant; the per-tenant `validated`
//! and `distinct` growth too), `validated` (config + policy, as routing keeps them),
//! `distinct` (the same with a different regex pattern per tenant, so no compiled regex is
//! shared), `config` (config only), `policy` (compiled policy only), `yaml` (the YAML strings
//! only), `fill DB_URL` (a fresh router filled from an already-imported database, e.g. one
//! left by `routing_bench`), `import shared|distinct FILE` (what `resident` imports).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::disallowed_methods
)]

use std::process::Command;

use passgate_policy::{CheckContext, check};
use passgate_routing::{Router, RouterOptions};
use passgate_store::{Store, TenantImport, TenantRepo};
use passgate_tenant::{ClientId, parse_tenant_yaml};

const TENANTS: usize = 10_000;
const TEMPLATE: &str = include_str!("../../../tenants/acme-shop.yaml");

/// `VmRSS` and `VmHWM` from /proc/self/status, in KiB.
fn rss() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn tenant_yaml(n: usize) -> String {
    let id = format!("tenant-{n:05}");
    TEMPLATE
        .replace("id: acme-shop\n", &format!("id: {id}\n"))
        .replace(
            "display_name: Acme Shop\n",
            &format!("display_name: Tenant {n}\n"),
        )
        .replace(
            "client_ids: [acme-shop-ios, acme-shop-android]",
            &format!("client_ids: [{id}-ios, {id}-android]"),
        )
}

/// Tenant `n` with a regex pattern of its own (`(?i)acme00042`): nothing to share.
fn distinct_yaml(n: usize) -> String {
    tenant_yaml(n).replace(
        "pattern: \"(?i)acme\"",
        &format!("pattern: \"(?i)acme{n:05}\""),
    )
}

/// Runs this example with `args` in a fresh process and returns its standard output.
fn child(args: &[&str]) -> String {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    print!("{text}");
    text
}

/// The number after `key=` on the line of `text` that has it.
fn value(text: &str, key: &str) -> f64 {
    text.split_whitespace()
        .find_map(|word| word.strip_prefix(key)?.strip_prefix('='))
        .and_then(|v| v.parse().ok())
        .unwrap()
}

/// The `resident` mode: both kinds of tenants, each imported and filled in fresh processes.
fn resident() {
    let dir = tempfile::tempdir().unwrap();
    let mut summary = Vec::new();
    for kind in ["shared", "distinct"] {
        let file = dir.path().join(format!("{kind}.sqlite"));
        let file = file.to_str().unwrap();
        child(&["import", kind, file]);
        let filled = child(&["fill", &format!("sqlite://{file}?mode=rwc")]);
        summary.push(format!(
            "{kind} patterns {:.0} MiB ({:.0} MiB after one check each)",
            value(&filled, "resident_mib"),
            value(&filled, "checked_mib")
        ));
    }
    child(&["validated"]);
    child(&["distinct"]);
    println!(
        "{TENANTS} tenants resident (20,000 client ids, RSS of a fresh process): {}; goal ≤ 200 MiB",
        summary.join(", ")
    );
}

/// The `import` mode: `TENANTS` tenants into a fresh database, as `passgate tenant import`.
async fn import(kind: &str, file: &str) {
    let store = Store::connect(&format!("sqlite://{file}?mode=rwc"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let items = (0..TENANTS)
        .map(|n| {
            let yaml = if kind == "distinct" {
                distinct_yaml(n)
            } else {
                tenant_yaml(n)
            };
            let tenant = parse_tenant_yaml("t.yaml", &yaml).unwrap();
            TenantImport {
                id: tenant.config.id,
                display_name: tenant.config.display_name,
                client_ids: tenant.config.client_ids,
                yaml,
            }
        })
        .collect();
    let at = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let results = store.import_tenants(items, "footprint", at).await.unwrap();
    assert_eq!(results.len(), TENANTS);
    println!("import {kind}: {TENANTS} tenants into {file}");
}

fn report(label: &str, before: (f64, f64)) {
    let after = rss();
    println!(
        "{label}: RSS {:.1} -> {:.1} MiB (peak {:.1} MiB); {:.2} KiB per tenant",
        before.0 / 1024.0,
        after.0 / 1024.0,
        after.1 / 1024.0,
        (after.0 - before.0) / TENANTS as f64
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map_or("resident", String::as_str);
    if mode == "resident" {
        return resident();
    }
    // Warm up once-per-process state (lazy statics, the blocklist, thread pools).
    let warm = parse_tenant_yaml("warm.yaml", &tenant_yaml(TENANTS)).unwrap();
    drop(warm);
    let before = rss();
    match mode {
        "validated" => {
            let kept: Vec<_> = (0..TENANTS)
                .map(|n| parse_tenant_yaml("t.yaml", &tenant_yaml(n)).unwrap())
                .map(|v| (v.config, v.policy))
                .collect();
            report(mode, before);
            std::hint::black_box(&kept);
        }
        "config" => {
            let kept: Vec<_> = (0..TENANTS)
                .map(|n| parse_tenant_yaml("t.yaml", &tenant_yaml(n)).unwrap().config)
                .collect();
            report(mode, before);
            std::hint::black_box(&kept);
        }
        "policy" => {
            let kept: Vec<_> = (0..TENANTS)
                .map(|n| parse_tenant_yaml("t.yaml", &tenant_yaml(n)).unwrap().policy)
                .collect();
            report(mode, before);
            std::hint::black_box(&kept);
        }
        "distinct" => {
            // Every tenant with its own regex pattern: nothing to share.
            let kept: Vec<_> = (0..TENANTS)
                .map(|n| {
                    let v = parse_tenant_yaml("t.yaml", &distinct_yaml(n)).unwrap();
                    (v.config, v.policy)
                })
                .collect();
            report(mode, before);
            std::hint::black_box(&kept);
        }
        "import" => {
            let kind = args.get(1).expect("import needs shared or distinct");
            import(kind, args.get(2).expect("import needs a file")).await;
        }
        "yaml" => {
            let kept: Vec<_> = (0..TENANTS).map(tenant_yaml).collect();
            report(mode, before);
            std::hint::black_box(&kept);
        }
        "fill" => {
            let url = args.get(1).expect("fill needs a database URL");
            let store = Store::connect(url).await.unwrap();
            let before = rss();
            let router = Router::attach(&store, &RouterOptions::default());
            let mut runtimes = Vec::with_capacity(TENANTS);
            for n in 0..TENANTS {
                for app in ["ios", "android"] {
                    let client = ClientId::parse(&format!("tenant-{n:05}-{app}")).unwrap();
                    runtimes.push(router.resolve(&client).await.unwrap());
                }
            }
            report("fill (router over an imported database)", before);
            let resident_mib = rss().0 / 1024.0;
            // One check per tenant, so each regex rule has run (and built its scratch space).
            let ctx = CheckContext::new("Acme", "en");
            for runtime in runtimes.iter().step_by(2) {
                std::hint::black_box(check(&runtime.policy, "Zq8-violet-harbor-92", &ctx));
            }
            drop(runtimes);
            let checked_mib = rss().0 / 1024.0;
            println!("resident_mib={resident_mib:.1} checked_mib={checked_mib:.1}");
            std::hint::black_box(&router);
        }
        other => println!("unknown mode {other}"),
    }
}
