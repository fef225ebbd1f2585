//! Routing behaviour on SQLite always, and across two replicas on PostgreSQL when
//! `PASSGATE_TEST_POSTGRES_URL` is set.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use passgate_routing::{Router, RouterOptions, RoutingError};
use passgate_store::*;
use passgate_tenant::{ClientId, TenantId};
use sea_orm::{ConnectionTrait, Database};

const ACME: &str = include_str!("../../../tenants/acme-shop.yaml");

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

fn cid(s: &str) -> ClientId {
    ClientId::parse(s).unwrap()
}

fn acme_yaml(display: &str) -> String {
    ACME.replace(
        "display_name: Acme Shop\n",
        &format!("display_name: {display}\n"),
    )
}

async fn import_acme(store: &Store, display: &str) {
    store
        .import_tenants(
            vec![TenantImport {
                id: TenantId::parse("acme-shop").unwrap(),
                display_name: display.to_owned(),
                client_ids: vec![cid("acme-shop-ios"), cid("acme-shop-android")],
                yaml: acme_yaml(display),
            }],
            "test",
            t0(),
        )
        .await
        .unwrap();
}

async fn sqlite() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("db.sqlite").display()
    );
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    (store, dir)
}

#[tokio::test]
async fn both_client_ids_share_one_runtime() {
    let (store, _dir) = sqlite().await;
    import_acme(&store, "Acme Shop").await;
    let router = Router::attach(&store, &RouterOptions::default());
    let ios = router.resolve(&cid("acme-shop-ios")).await.unwrap();
    let android = router.resolve(&cid("acme-shop-android")).await.unwrap();
    assert!(
        Arc::ptr_eq(&ios, &android),
        "one compiled runtime per tenant version"
    );
    assert_eq!(ios.tenant_id.as_str(), "acme-shop");
    assert_eq!(ios.config.display_name, "Acme Shop");
    assert_eq!(ios.version, 1);
    let again = router.resolve(&cid("acme-shop-ios")).await.unwrap();
    assert!(Arc::ptr_eq(&ios, &again));
    assert_eq!(router.loads(), 2, "one load per client id, then hits");
}

#[tokio::test]
async fn unknown_and_disabled_client_ids_are_typed_errors() {
    let (store, _dir) = sqlite().await;
    import_acme(&store, "Acme Shop").await;
    let router = Router::attach(&store, &RouterOptions::default());
    assert!(matches!(
        router.resolve(&cid("nobody")).await,
        Err(RoutingError::UnknownClient(c)) if c == cid("nobody")
    ));
    let acme = TenantId::parse("acme-shop").unwrap();
    router.resolve(&cid("acme-shop-ios")).await.unwrap();
    store
        .set_status(&acme, TenantStatus::Disabled, t0())
        .await
        .unwrap();
    assert!(matches!(
        router.resolve(&cid("acme-shop-ios")).await,
        Err(RoutingError::Disabled { tenant }) if tenant == acme
    ));
    store
        .set_status(&acme, TenantStatus::Active, t0())
        .await
        .unwrap();
    assert!(router.resolve(&cid("acme-shop-ios")).await.is_ok());

    store
        .create_tenant(
            NewTenant {
                id: TenantId::parse("empty").unwrap(),
                display_name: "Empty".into(),
                status: TenantStatus::Active,
            },
            t0(),
        )
        .await
        .unwrap();
    store
        .add_client_id(&TenantId::parse("empty").unwrap(), &cid("empty-app"), t0())
        .await
        .unwrap();
    assert!(matches!(
        router.resolve(&cid("empty-app")).await,
        Err(RoutingError::NoActiveConfig { .. })
    ));
}

#[tokio::test]
async fn writes_through_the_store_are_served_at_once() {
    let (store, _dir) = sqlite().await;
    import_acme(&store, "Acme Shop").await;
    let router = Router::attach(&store, &RouterOptions::default());
    assert_eq!(
        router.resolve(&cid("acme-shop-ios")).await.unwrap().version,
        1
    );
    import_acme(&store, "Acme Shop Deluxe").await;
    let runtime = router.resolve(&cid("acme-shop-ios")).await.unwrap();
    assert_eq!(runtime.version, 2);
    assert_eq!(runtime.config.display_name, "Acme Shop Deluxe");
    // Rollback is a write too.
    let acme = TenantId::parse("acme-shop").unwrap();
    store.activate_version(&acme, 1, t0()).await.unwrap();
    assert_eq!(
        router
            .resolve(&cid("acme-shop-android"))
            .await
            .unwrap()
            .config
            .display_name,
        "Acme Shop"
    );
}

#[tokio::test]
async fn an_invalid_stored_config_is_reported_with_its_problems() {
    let (store, _dir) = sqlite().await;
    import_acme(&store, "Acme Shop").await;
    let acme = TenantId::parse("acme-shop").unwrap();
    store
        .create_version(
            &acme,
            NewConfigVersion {
                yaml: "id: acme-shop\nno_such_key: 1\n".into(),
                author: "test".into(),
                comment: None,
            },
            true,
            t0(),
        )
        .await
        .unwrap();
    let router = Router::attach(&store, &RouterOptions::default());
    match router.resolve(&cid("acme-shop-ios")).await {
        Err(RoutingError::InvalidConfig {
            version, errors, ..
        }) => {
            assert_eq!(version, 2);
            assert!(errors.to_string().contains("no_such_key"), "{errors}");
        }
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
}

/// A route source that counts loads and holds every load until the test opens the gate.
struct Gated {
    store: Store,
    loads: AtomicU64,
    gate: tokio::sync::Semaphore,
}

#[async_trait]
impl RouteSource for Gated {
    async fn load_route(&self, client: &ClientId) -> StoreResult<Option<RouteRecord>> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        let _permit = self.gate.acquire().await.unwrap();
        self.store.load_route(client).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_misses_make_one_store_load() {
    let (store, _dir) = sqlite().await;
    import_acme(&store, "Acme Shop").await;
    let source = Arc::new(Gated {
        store,
        loads: AtomicU64::new(0),
        gate: tokio::sync::Semaphore::new(0),
    });
    let router = Router::new(source.clone(), &RouterOptions::default());
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let router = router.clone();
            tokio::spawn(async move { router.resolve(&cid("acme-shop-ios")).await })
        })
        .collect();
    // Let every task reach the cache while the first load is held at the gate.
    while source.loads.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    source.gate.add_permits(1000);
    let mut runtimes = Vec::new();
    for task in tasks {
        runtimes.push(task.await.unwrap().unwrap());
    }
    assert_eq!(source.loads.load(Ordering::SeqCst), 1);
    assert!(runtimes.iter().all(|r| Arc::ptr_eq(r, &runtimes[0])));
}

/// Two connection pools ("replicas") on one fresh PostgreSQL schema.
struct PgReplicas {
    url: String,
    schema: String,
    /// `NOTIFY` channels are per database, not per schema: the PostgreSQL tests of this file
    /// take turns so one test's notifications cannot disturb another's expectations.
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

static PG_TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl PgReplicas {
    async fn new() -> Option<Self> {
        let url = passgate_testkit::postgres::test_url()?;
        let turn = PG_TURN.lock().await;
        let schema = format!("passgate_test_{:016x}", rand::random::<u64>());
        let admin = Database::connect(&url).await.unwrap();
        admin
            .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
            .await
            .unwrap();
        Some(Self {
            url,
            schema,
            _turn: turn,
        })
    }

    async fn store(&self, name: &str) -> Store {
        let mut options = StoreOptions::new(&self.url);
        options.schema = Some(self.schema.clone());
        options.application_name = Some(format!("{}-{name}", self.schema));
        let store = Store::connect_with(options).await.unwrap();
        store.migrate().await.unwrap();
        store
    }

    async fn finish(self) {
        let admin = Database::connect(&self.url).await.unwrap();
        admin
            .execute_unprepared(&format!("DROP SCHEMA {} CASCADE", self.schema))
            .await
            .unwrap();
    }
}

/// Polls until `check` holds (a correctness test: the bound is generous, not a latency goal).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..600 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn display_name(router: &Router) -> String {
    router
        .resolve(&cid("acme-shop-ios"))
        .await
        .unwrap()
        .config
        .display_name
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_through_one_replica_is_served_by_the_other() {
    let Some(pg) = PgReplicas::new().await else {
        return;
    };
    let (store_a, store_b) = (pg.store("a").await, pg.store("b").await);
    let options = RouterOptions {
        ttl: Duration::from_secs(3600),
        ..RouterOptions::default()
    };
    let _router_a = Router::attach(&store_a, &options);
    let router_b = Router::attach(&store_b, &options);
    eventually("replica b to listen", || async { router_b.listens() >= 1 }).await;

    import_acme(&store_a, "Acme Shop").await;
    assert_eq!(display_name(&router_b).await, "Acme Shop");
    import_acme(&store_a, "Acme Shop Deluxe").await;
    eventually("replica b to serve the new config", || async {
        display_name(&router_b).await == "Acme Shop Deluxe"
    })
    .await;
    assert_eq!(
        router_b
            .resolve(&cid("acme-shop-android"))
            .await
            .unwrap()
            .version,
        2
    );
    pg.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_that_reconnects_drops_what_it_may_have_missed() {
    let Some(pg) = PgReplicas::new().await else {
        return;
    };
    let store = pg.store("main").await;
    // Imported before the router listens, so no notification of it is still in flight.
    import_acme(&store, "Acme Shop").await;
    let options = RouterOptions {
        ttl: Duration::from_secs(3600),
        ..RouterOptions::default()
    };
    let router = Router::attach(&store, &options);
    eventually("the listener", || async { router.listens() >= 1 }).await;
    assert_eq!(display_name(&router).await, "Acme Shop");

    // A change that sends no notification (as if it happened while the listener was down).
    let changed = acme_yaml("Acme Shop Silent");
    let sha = Sha256Digest::of(changed.as_bytes()).to_hex();
    store
        .connection()
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "UPDATE tenant_config_versions SET yaml = $1, sha256 = $2 WHERE tenant_id = 'acme-shop'",
            [changed.into(), sha.into()],
        ))
        .await
        .unwrap();
    assert_eq!(
        display_name(&router).await,
        "Acme Shop",
        "nothing told this replica yet"
    );

    // Cut the listener's connection; it reconnects and resyncs.
    let admin = Database::connect(&pg.url).await.unwrap();
    let app = format!("{}-main", pg.schema);
    eventually("the listener's connection to be cut", || async {
        let cut = admin
            .execute_raw(sea_orm::Statement::from_sql_and_values(
                sea_orm::DbBackend::Postgres,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE application_name = $1 AND query LIKE 'LISTEN%'",
                [app.clone().into()],
            ))
            .await
            .unwrap();
        cut.rows_affected() >= 1
    })
    .await;
    eventually("the listener to reconnect", || async {
        router.listens() >= 2
    })
    .await;
    eventually("the missed change to be served", || async {
        display_name(&router).await == "Acme Shop Silent"
    })
    .await;
    pg.finish().await;
}
