//! Cross-replica wake-ups of the durable workers on PostgreSQL: a replica that queued a job
//! or a mail [`Store::announce`]s it on the queue's channel, and every replica
//! [`Store::listen`]s there (one connection for all queues), so its worker claims at once
//! instead of at its next poll. A lost
//! notification costs only latency: the workers still poll.

use std::time::Duration;

use sea_orm::sqlx::{PgPool, postgres::PgListener};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::{
    error::StoreResult,
    store::{Backend, Store},
};

/// The queues whose enqueues are announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueChannel {
    /// Reset-request jobs (`reset_jobs`).
    Jobs,
    /// Sealed mails (`mail_outbox`).
    Mail,
}

impl QueueChannel {
    /// The PostgreSQL `NOTIFY` channel.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Jobs => "passgate_job_queued",
            Self::Mail => "passgate_mail_queued",
        }
    }
}

/// The longest wait before listening again after the listener failed.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

impl Store {
    /// On PostgreSQL: tells every replica listening on `queue` that it has a new row (one
    /// `NOTIFY`, after the row committed). Nothing on SQLite (one process).
    pub async fn announce(&self, queue: QueueChannel) -> StoreResult<()> {
        if self.backend() != Backend::Postgres {
            return Ok(());
        }
        self.connection()
            .execute_raw(Statement::from_string(
                DbBackend::Postgres,
                format!("NOTIFY {}", queue.name()),
            ))
            .await?;
        Ok(())
    }

    /// [`Store::announce`] inside `txn`: PostgreSQL delivers it when (and only if) the
    /// transaction commits.
    pub(crate) async fn announce_in(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        queue: QueueChannel,
    ) -> StoreResult<()> {
        if self.backend() != Backend::Postgres {
            return Ok(());
        }
        txn.execute_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("NOTIFY {}", queue.name()),
        ))
        .await?;
        Ok(())
    }

    /// On PostgreSQL: calls `woken` with the queue of every announcement on `queues` (one
    /// connection for all), and for each of them after every (re)connect, since announcements
    /// made while not listening are lost. Reconnects with backoff after a failure and never
    /// returns; on SQLite it only waits (one process: nothing to hear).
    pub async fn listen(&self, queues: &[QueueChannel], woken: &(dyn Fn(QueueChannel) + Sync)) {
        if self.backend() != Backend::Postgres {
            return std::future::pending().await;
        }
        let pool = self.connection().get_postgres_connection_pool().clone();
        let mut backoff = Duration::from_millis(100);
        loop {
            let mut listener = match connect(&pool, queues).await {
                Ok(listener) => listener,
                Err(err) => {
                    tracing::warn!(error = %err, "LISTEN for the queues failed; polling until it is back");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            };
            backoff = Duration::from_millis(100);
            queues.iter().for_each(|queue| woken(*queue));
            loop {
                match listener.try_recv().await {
                    Ok(Some(heard)) => queues
                        .iter()
                        .filter(|queue| queue.name() == heard.channel())
                        .for_each(|queue| woken(*queue)),
                    Ok(None) => break,
                    Err(err) => {
                        tracing::warn!(error = %err, "LISTEN for the queues lost; reconnecting");
                        break;
                    }
                }
            }
        }
    }
}

async fn connect(
    pool: &PgPool,
    queues: &[QueueChannel],
) -> Result<PgListener, sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener
        .listen_all(queues.iter().map(|queue| queue.name()))
        .await?;
    Ok(listener)
}
