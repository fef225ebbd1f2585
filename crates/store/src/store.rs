//! [`Store`]: the connection pool, migrations, and the change hooks that keep caches honest.

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use passgate_migrations::{Migrator, MigratorTrait};
use passgate_tenant::TenantId;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};

use crate::error::{StoreError, StoreResult};

/// The PostgreSQL `NOTIFY` channel a tenant write announces itself on; the payload is the
/// tenant id. Replicas `LISTEN` to it to drop cached config.
pub const TENANT_CHANGED_CHANNEL: &str = "passgate_tenant_changed";

/// How long a SQLite connection waits for another writer before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Called after a write to a tenant, its client ids or its config has committed.
pub type ChangeHook = Arc<dyn Fn(&TenantId) + Send + Sync>;

/// Which database is behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded single-node default.
    Sqlite,
    /// The shared database for several replicas.
    Postgres,
}

/// How to connect.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// `sqlite://PATH?mode=rwc` or `postgres://…`.
    pub url: String,
    /// Pool size; defaults to 4 on SQLite (one writer at a time anyway) and 10 on PostgreSQL.
    pub max_connections: Option<u32>,
    /// PostgreSQL schema to use as `search_path` (tests use one fresh schema each).
    pub schema: Option<String>,
    /// PostgreSQL `application_name`, so operators can tell Passgate's connections apart.
    pub application_name: Option<String>,
}

impl StoreOptions {
    /// Options for `url` with defaults.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: None,
            schema: None,
            application_name: None,
        }
    }
}

/// The database behind every repository trait. Cheap to clone (one shared pool).
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    backend: Backend,
    /// Run after each committed tenant write, in this process (routing registers one).
    hooks: RwLock<Vec<ChangeHook>>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.inner.backend)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Connects with default options (does not migrate).
    pub async fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_with(StoreOptions::new(url)).await
    }

    /// Connects. SQLite gets WAL, a 5 s busy timeout, `synchronous=NORMAL` and foreign keys.
    pub async fn connect_with(options: StoreOptions) -> StoreResult<Self> {
        let backend = if options.url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let mut connect = ConnectOptions::new(options.url.clone());
        // sqlx logs every statement at INFO otherwise.
        connect.sqlx_logging(false);
        match backend {
            Backend::Sqlite => {
                connect
                    .max_connections(options.max_connections.unwrap_or(4))
                    .map_sqlx_sqlite_opts(|o| {
                        o.journal_mode(SqliteJournalMode::Wal)
                            .busy_timeout(SQLITE_BUSY_TIMEOUT)
                            .synchronous(SqliteSynchronous::Normal)
                            .foreign_keys(true)
                    });
            }
            Backend::Postgres => {
                connect.max_connections(options.max_connections.unwrap_or(10));
                if let Some(schema) = &options.schema {
                    connect.set_schema_search_path(schema.clone());
                }
                connect.set_application_name(
                    options.application_name.as_deref().unwrap_or("passgate"),
                );
            }
        }
        let db = Database::connect(connect).await?;
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                backend,
                hooks: RwLock::new(Vec::new()),
            }),
        })
    }

    /// Applies pending migrations; a no-op when the schema is current.
    pub async fn migrate(&self) -> StoreResult<()> {
        Migrator::up(&self.inner.db, None)
            .await
            .map_err(|e| StoreError::Migration(e.to_string()))
    }

    /// How many migrations are not applied yet.
    pub async fn pending_migrations(&self) -> StoreResult<usize> {
        let pending = Migrator::get_pending_migrations_read_only(&self.inner.db)
            .await
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(pending.len())
    }

    /// Names of the migrations applied so far, oldest first.
    pub async fn applied_migrations(&self) -> StoreResult<Vec<String>> {
        let applied = Migrator::get_applied_migrations(&self.inner.db)
            .await
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(applied.iter().map(|m| m.name().to_owned()).collect())
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// The sea-orm connection, for crates that need the raw pool (routing's `LISTEN`).
    pub fn connection(&self) -> &DatabaseConnection {
        &self.inner.db
    }

    /// Registers a hook run after every committed write to a tenant (its row, client ids or
    /// config versions) made through this store or any clone of it.
    pub fn on_tenant_change(&self, hook: ChangeHook) {
        self.inner
            .hooks
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(hook);
    }

    /// Runs the change hooks for tenants whose writes just committed.
    pub(crate) fn tenants_changed(&self, ids: &[TenantId]) {
        let hooks = self
            .inner
            .hooks
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        for id in ids {
            for hook in &hooks {
                hook(id);
            }
        }
    }

    /// Starts a write transaction. On SQLite it is `BEGIN IMMEDIATE`, so it takes the write
    /// lock up front (waiting up to the busy timeout) instead of failing when a read inside it
    /// later needs to become a write.
    pub(crate) async fn begin_write(&self) -> StoreResult<DatabaseTransaction> {
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        Ok(self.inner.db.begin_with_options(options).await?)
    }

    /// Inside a write transaction: announces the tenants to other replicas. PostgreSQL
    /// delivers the notification only if and when the transaction commits.
    pub(crate) async fn notify_in(
        &self,
        txn: &DatabaseTransaction,
        ids: &[TenantId],
    ) -> StoreResult<()> {
        if self.inner.backend != Backend::Postgres {
            return Ok(());
        }
        for id in ids {
            txn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [TENANT_CHANGED_CHANNEL.into(), id.as_str().into()],
            ))
            .await?;
        }
        Ok(())
    }

    /// Commits a tenant write: notify other replicas (in the transaction), commit, then run
    /// this process's hooks.
    pub(crate) async fn commit_tenant_write(
        &self,
        txn: DatabaseTransaction,
        ids: &[TenantId],
    ) -> StoreResult<()> {
        self.notify_in(&txn, ids).await?;
        txn.commit().await?;
        self.tenants_changed(ids);
        Ok(())
    }

    /// The pool, for plain reads and single-statement writes.
    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.inner.db
    }
}
