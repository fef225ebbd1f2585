//! Storage and routing figures for docs/benchmarks.md: import of 10,000 generated tenants
//! (wall time, peak RSS), cold-load latency, cache-hit latency, and the RSS with every tenant
//! resident. SQLite always; PostgreSQL too when `PASSGATE_TEST_POSTGRES_URL` is set (in a
//! fresh schema, dropped afterwards).
//!
//! ```sh
//! cargo run --release -p passgate-routing --example routing_bench
//! ```

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use passgate_routing::{Router, RouterOptions};
use passgate_store::{Store, StoreOptions, TenantImport, TenantRepo};
use passgate_tenant::{ClientId, parse_tenant_yaml};
use sea_orm::{ConnectionTrait, Database};

const TENANTS: usize = 10_000;
const TEMPLATE: &str = include_str!("../../../tenants/acme-shop.yaml");

/// `VmRSS` and `VmHWM` from /proc/self/status, in MiB.
fn rss() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Process CPU time (user + system, all threads) from /proc/self/stat.
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 =
        fields[11].parse::<u64>().unwrap_or(0) + fields[12].parse::<u64>().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

fn tenant_yaml(n: usize) -> (String, String) {
    let id = format!("tenant-{n:05}");
    let yaml = TEMPLATE
        .replace("id: acme-shop\n", &format!("id: {id}\n"))
        .replace(
            "display_name: Acme Shop\n",
            &format!("display_name: Tenant {n}\n"),
        )
        .replace(
            "client_ids: [acme-shop-ios, acme-shop-android]",
            &format!("client_ids: [{id}-ios, {id}-android]"),
        );
    (id, yaml)
}

async fn run(label: &str, store: Store) {
    store.migrate().await.unwrap();
    println!("== {label}");

    // Import, as `passgate tenant import` does it: validate every file, then one transaction.
    let started = Instant::now();
    let mut items = Vec::with_capacity(TENANTS);
    for n in 0..TENANTS {
        let (id, yaml) = tenant_yaml(n);
        let tenant = parse_tenant_yaml(&format!("{id}.yaml"), &yaml).unwrap();
        items.push(TenantImport {
            id: tenant.config.id,
            display_name: tenant.config.display_name,
            client_ids: tenant.config.client_ids,
            yaml,
        });
    }
    let validated = started.elapsed();
    import_all(&store, items).await;
    let total = started.elapsed();
    let (rss_now, hwm) = rss();
    println!(
        "import {TENANTS} tenants: {:.2} s wall (validation {:.2} s, database {:.2} s); RSS {rss_now:.0} MiB, peak {hwm:.0} MiB",
        total.as_secs_f64(),
        validated.as_secs_f64(),
        (total - validated).as_secs_f64()
    );

    // Cold loads: every client id once, through a fresh router (one store read + validation
    // per tenant; the second client id of a tenant shares the runtime).
    let router = Router::attach(&store, &RouterOptions::default());
    let clients: Vec<ClientId> = (0..TENANTS)
        .flat_map(|n| {
            let id = format!("tenant-{n:05}");
            [
                ClientId::parse(&format!("{id}-ios")).unwrap(),
                ClientId::parse(&format!("{id}-android")).unwrap(),
            ]
        })
        .collect();
    let (cpu0, started) = (cpu(), Instant::now());
    for client in clients.iter().step_by(2) {
        router.resolve(client).await.unwrap();
    }
    let cold = started.elapsed();
    let cold_cpu = cpu() - cpu0;
    for client in clients.iter().skip(1).step_by(2) {
        router.resolve(client).await.unwrap();
    }
    let (rss_now, hwm) = rss();
    println!(
        "cold load (store read + YAML validation + policy compile): {:.0} µs wall, {:.0} µs CPU per tenant",
        cold.as_secs_f64() * 1e6 / TENANTS as f64,
        cold_cpu.as_secs_f64() * 1e6 / TENANTS as f64
    );
    println!(
        "{TENANTS} tenants resident ({} client ids): RSS {rss_now:.0} MiB, peak {hwm:.0} MiB",
        clients.len()
    );

    // Hits: the same client id, then all 20,000 in turn.
    let one = clients[0].clone();
    let rounds = 1_000_000u32;
    let (cpu0, started) = (cpu(), Instant::now());
    for _ in 0..rounds {
        let runtime = router.resolve(&one).await.unwrap();
        std::hint::black_box(&runtime);
    }
    println!(
        "cache hit, one client id: {:.0} ns wall, {:.0} ns CPU",
        started.elapsed().as_secs_f64() * 1e9 / f64::from(rounds),
        (cpu() - cpu0).as_secs_f64() * 1e9 / f64::from(rounds)
    );
    let (cpu0, started) = (cpu(), Instant::now());
    let mut hits = 0u32;
    for _ in 0..50 {
        for client in &clients {
            std::hint::black_box(router.resolve(client).await.unwrap());
            hits += 1;
        }
    }
    println!(
        "cache hit, 20,000 client ids in turn: {:.0} ns wall, {:.0} ns CPU",
        started.elapsed().as_secs_f64() * 1e9 / f64::from(hits),
        (cpu() - cpu0).as_secs_f64() * 1e9 / f64::from(hits)
    );
    drop(router);
}

async fn import_all(store: &Store, items: Vec<TenantImport>) {
    let results = store
        .import_tenants(
            items,
            "bench",
            chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(results.len(), TENANTS);
}

#[tokio::main]
async fn main() {
    println!(
        "load average: {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    // `PASSGATE_BENCH_SQLITE=FILE` keeps the SQLite database (a fresh file) for
    // `examples/footprint.rs fill`, which measures a cache filled in a process that never
    // imported.
    let dir = tempfile::tempdir().unwrap();
    let path = std::env::var_os("PASSGATE_BENCH_SQLITE")
        .map_or_else(|| dir.path().join("bench.sqlite"), std::path::PathBuf::from);
    let url = format!("sqlite://{}?mode=rwc", path.display());
    run("SQLite", Store::connect(&url).await.unwrap()).await;

    if let Ok(url) = std::env::var("PASSGATE_TEST_POSTGRES_URL") {
        let schema = format!("passgate_bench_{}", std::process::id());
        let admin = Database::connect(&url).await.unwrap();
        admin
            .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
            .await
            .unwrap();
        let mut options = StoreOptions::new(&url);
        options.schema = Some(schema.clone());
        let store = Store::connect_with(options).await.unwrap();
        run("PostgreSQL", store.clone()).await;
        store.connection().clone().close().await.ok();
        admin
            .execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE"))
            .await
            .unwrap();
    } else {
        println!("PostgreSQL skipped: PASSGATE_TEST_POSTGRES_URL not set");
    }
}
