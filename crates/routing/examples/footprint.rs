//! Where the resident memory of cached tenants goes: builds 10,000 tenant runtimes (or parts
//! of them) in a fresh process and prints the RSS growth per item. One mode per run, so the
//! allocator's leftovers from one measurement never pollute the next.
//!
//! ```sh
//! cargo run --release -p passgate-routing --example footprint -- MODE
//! ```
//! MODE: `validated` (config + policy, as routing keeps them), `distinct` (the same with a
//! different regex pattern per tenant, so no compiled regex is shared), `config` (config only),
//! `policy` (compiled policy only), `yaml` (the YAML strings only), `fill DB_URL` (a fresh
//! router filled from an already-imported database, e.g. one left by `routing_bench`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::disallowed_methods
)]

use passgate_routing::{Router, RouterOptions};
use passgate_store::Store;
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
    let mode = args.first().map_or("validated", String::as_str);
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
                    let yaml = tenant_yaml(n).replace(
                        "pattern: \"(?i)acme\"",
                        &format!("pattern: \"(?i)acme{n:05}\""),
                    );
                    let v = parse_tenant_yaml("t.yaml", &yaml).unwrap();
                    (v.config, v.policy)
                })
                .collect();
            report(mode, before);
            std::hint::black_box(&kept);
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
            for n in 0..TENANTS {
                for app in ["ios", "android"] {
                    let client = ClientId::parse(&format!("tenant-{n:05}-{app}")).unwrap();
                    router.resolve(&client).await.unwrap();
                }
            }
            report("fill (router over an imported database)", before);
            std::hint::black_box(&router);
        }
        other => println!("unknown mode {other}"),
    }
}
