//! The PostgreSQL `LISTEN` loop: invalidates this replica's cache when another replica
//! changes a tenant, and resyncs (drops everything) after every (re)connect, because
//! notifications sent while disconnected are lost.

use std::sync::Weak;
use std::time::Duration;

use passgate_store::TENANT_CHANGED_CHANNEL;
use passgate_tenant::TenantId;
use sea_orm::sqlx::PgPool;
use sea_orm::sqlx::postgres::PgListener;

use crate::router::Inner;

const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Runs until the router is dropped.
pub(crate) async fn run(pool: PgPool, router: Weak<Inner>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let mut listener = match connect(&pool).await {
            Ok(listener) => listener,
            Err(err) => {
                tracing::warn!(error = %err, "routing: LISTEN failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                if router.strong_count() == 0 {
                    return;
                }
                continue;
            }
        };
        backoff = Duration::from_millis(100);
        // Listening now: anything changed before this point may have been missed.
        match router.upgrade() {
            Some(inner) => {
                inner.invalidate_all();
                inner.listened();
            }
            None => return,
        }
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    let Some(inner) = router.upgrade() else {
                        return;
                    };
                    match TenantId::parse(notification.payload()) {
                        Ok(tenant) => inner.invalidate(&tenant),
                        Err(_) => inner.invalidate_all(),
                    }
                }
                Ok(None) => {
                    tracing::warn!("routing: LISTEN connection lost; reconnecting");
                    break;
                }
                Err(err) => {
                    tracing::warn!(error = %err, "routing: LISTEN failed; reconnecting");
                    break;
                }
            }
        }
    }
}

async fn connect(pool: &PgPool) -> Result<PgListener, sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(TENANT_CHANGED_CHANNEL).await?;
    Ok(listener)
}
