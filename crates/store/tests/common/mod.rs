//! Test databases: a temp SQLite file, or a fresh PostgreSQL schema when
//! `PASSGATE_TEST_POSTGRES_URL` is set.

#![allow(dead_code)]

use passgate_store::{Store, StoreOptions};
use sea_orm::{ConnectionTrait, Database};

/// A migrated store plus what must be cleaned up afterwards.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    pub schema: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A migrated store on a new SQLite file.
    pub async fn sqlite() -> Self {
        let db = Self::sqlite_unmigrated().await;
        db.store.migrate().await.unwrap();
        db
    }

    /// A store on a new SQLite file with no migration applied (migration tests).
    pub async fn sqlite_unmigrated() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("passgate.sqlite").display()
        );
        let store = Store::connect(&url).await.unwrap();
        Self {
            store,
            url,
            schema: None,
            _dir: Some(dir),
        }
    }

    /// A migrated store in a new PostgreSQL schema, or `None` (printing why) when no server is
    /// configured.
    pub async fn postgres() -> Option<Self> {
        let db = Self::postgres_unmigrated().await?;
        db.store.migrate().await.unwrap();
        Some(db)
    }

    /// As [`TestDb::postgres`], with no migration applied (migration tests).
    pub async fn postgres_unmigrated() -> Option<Self> {
        let url = passgate_testkit::postgres::test_url()?;
        let schema = format!("passgate_test_{:016x}", rand::random::<u64>());
        let admin = Database::connect(&url).await.unwrap();
        admin
            .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
            .await
            .unwrap();
        admin.close().await.unwrap();
        let store = Self::connect_schema(&url, &schema).await;
        Some(Self {
            store,
            url,
            schema: Some(schema),
            _dir: None,
        })
    }

    /// Another pool onto the same database (a second "replica").
    pub async fn second_pool(&self) -> Store {
        match &self.schema {
            Some(schema) => Self::connect_schema(&self.url, schema).await,
            None => Store::connect(&self.url).await.unwrap(),
        }
    }

    async fn connect_schema(url: &str, schema: &str) -> Store {
        let mut options = StoreOptions::new(url);
        options.schema = Some(schema.to_owned());
        Store::connect_with(options).await.unwrap()
    }

    /// Drops the PostgreSQL schema (SQLite's temp dir goes with `self`).
    pub async fn finish(self) {
        if let Some(schema) = &self.schema {
            self.store.connection().clone().close().await.ok();
            let admin = Database::connect(&self.url).await.unwrap();
            admin
                .execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE"))
                .await
                .unwrap();
        }
    }
}
