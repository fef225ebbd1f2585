//! The mail outbox and the background job queue: rows claimed with a lease, so a worker that
//! dies mid-task loses nothing (the lease expires and another worker claims the row again).
//!
//! Claiming is portable: select due candidates, then take each with a conditional UPDATE that
//! repeats the "due" condition; only one worker's UPDATE can match a given row.

use async_trait::async_trait;
use chrono::TimeDelta;
use passgate_tenant::TenantId;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    ModelTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::admin::audit_row;
use super::tokens::{invalidate_on, token_row};
use super::{at, client_id, count_u32, tenant_id};
use crate::entity::{audit_events, mail_outbox, reset_jobs, reset_tokens};
use crate::error::{StoreError, StoreResult};
use crate::model::*;
use crate::queue_signal::QueueChannel;
use crate::repo::{JobRepo, OutboxRepo};
use crate::store::Store;

fn mail_from_row(row: mail_outbox::Model) -> StoreResult<OutboxMail> {
    Ok(OutboxMail {
        id: MailId(row.id),
        tenant_id: tenant_id("mail_outbox", &row.tenant_id)?,
        message_id: row.message_id,
        recipient: row.recipient,
        body: EncryptedBlob {
            ciphertext: row.body_ciphertext,
            nonce: row.body_nonce,
            key_id: row.key_id,
        },
        status: MailStatus::parse(&row.status)
            .ok_or_else(|| StoreError::corrupt("mail_outbox", "unknown status"))?,
        attempts: count_u32(row.attempts),
        next_attempt_at: row.next_attempt_at,
        last_error: row.last_error,
        created_at: row.created_at,
        sent_at: row.sent_at,
    })
}

fn job_from_row(row: reset_jobs::Model) -> StoreResult<Job> {
    Ok(Job {
        id: JobId(row.id),
        tenant_id: tenant_id("reset_jobs", &row.tenant_id)?,
        client_id: client_id("reset_jobs", &row.client_id)?,
        kind: row.kind,
        payload: row.payload,
        status: JobStatus::parse(&row.status)
            .ok_or_else(|| StoreError::corrupt("reset_jobs", "unknown status"))?,
        attempts: count_u32(row.attempts),
        run_after: row.run_after,
        locked_until: row.locked_until,
        last_error: row.last_error,
        created_at: row.created_at,
    })
}

/// What differs between the two leased queues (outbox and jobs): their columns and the
/// spellings of "waiting" and "claimed". Claiming itself is one piece of code, [`claim`].
struct LeasedQueue<C> {
    id: C,
    status: C,
    due_at: C,
    locked_until: C,
    attempts: C,
    pending: &'static str,
    claimed: &'static str,
}

const OUTBOX: LeasedQueue<mail_outbox::Column> = LeasedQueue {
    id: mail_outbox::Column::Id,
    status: mail_outbox::Column::Status,
    due_at: mail_outbox::Column::NextAttemptAt,
    locked_until: mail_outbox::Column::LockedUntil,
    attempts: mail_outbox::Column::Attempts,
    pending: MailStatus::Pending.as_str(),
    claimed: MailStatus::Sending.as_str(),
};

const JOBS: LeasedQueue<reset_jobs::Column> = LeasedQueue {
    id: reset_jobs::Column::Id,
    status: reset_jobs::Column::Status,
    due_at: reset_jobs::Column::RunAfter,
    locked_until: reset_jobs::Column::LockedUntil,
    attempts: reset_jobs::Column::Attempts,
    pending: JobStatus::Pending.as_str(),
    claimed: JobStatus::Running.as_str(),
};

impl<C: ColumnTrait + Copy> LeasedQueue<C> {
    /// Waiting and due, or claimed by a worker whose lease ran out.
    fn due(&self, now: Timestamp) -> Condition {
        Condition::any()
            .add(
                Condition::all()
                    .add(self.status.eq(self.pending))
                    .add(self.due_at.lte(now)),
            )
            .add(
                Condition::all()
                    .add(self.status.eq(self.claimed))
                    .add(self.locked_until.lte(now)),
            )
    }
}

/// Claims up to `limit` due rows for `lease`: select candidates, then take each with a
/// conditional UPDATE that repeats the "due" condition, so only one worker wins a row.
async fn claim<E>(
    db: &DatabaseConnection,
    queue: &LeasedQueue<E::Column>,
    now: Timestamp,
    lease: TimeDelta,
    limit: u32,
) -> StoreResult<Vec<E::Model>>
where
    E: EntityTrait,
    E::Column: Copy,
{
    let now = at(now);
    let candidates: Vec<i64> = E::find()
        .select_only()
        .column(queue.id)
        .filter(queue.due(now))
        .order_by_asc(queue.due_at)
        .limit(u64::from(limit))
        .into_tuple()
        .all(db)
        .await?;
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    // One statement for the whole batch: the repeated "due" condition still lets only one
    // worker take a row (PostgreSQL re-checks it on the locked row; SQLite has one writer).
    let mut claimed = E::update_many()
        .col_expr(queue.status, Expr::value(queue.claimed))
        .col_expr(queue.locked_until, Expr::value(at(now + lease)))
        .col_expr(queue.attempts, Expr::col(queue.attempts).add(1))
        .filter(queue.id.is_in(candidates.iter().copied()))
        .filter(queue.due(now))
        .exec_with_returning(db)
        .await?;
    // Due order, as selected (RETURNING promises none).
    claimed.sort_by_key(|row| {
        let id = row.get(queue.id);
        candidates
            .iter()
            .position(|candidate| sea_orm::Value::from(*candidate) == id)
            .unwrap_or(usize::MAX)
    });
    Ok(claimed)
}

/// The row to queue for `new`.
fn mail_row(new: NewMail) -> mail_outbox::ActiveModel {
    mail_outbox::ActiveModel {
        tenant_id: Set(new.tenant_id.as_str().to_owned()),
        message_id: Set(new.message_id),
        recipient: Set(new.recipient),
        body_ciphertext: Set(new.body.ciphertext),
        body_nonce: Set(new.body.nonce),
        key_id: Set(new.body.key_id),
        status: Set(MailStatus::Pending.as_str().to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(at(new.created_at)),
        locked_until: Set(None),
        last_error: Set(None),
        created_at: Set(at(new.created_at)),
        sent_at: Set(None),
        ..Default::default()
    }
}

/// Appends `events` on `conn`, in as few statements as fit ([`super::statement_runs`]).
async fn append_audit_on(
    conn: &impl ConnectionTrait,
    events: Vec<NewAuditEvent>,
) -> StoreResult<()> {
    // Details are small JSON objects; serializing them twice to measure is not worth it.
    for run in super::statement_runs(events, |event| 512 + event.actor.len()) {
        audit_events::Entity::insert_many(run.into_iter().map(audit_row))
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// Error texts are for operators; keep them bounded.
fn clip(error: &str) -> String {
    error.chars().take(1000).collect()
}

#[async_trait]
impl OutboxRepo for Store {
    async fn enqueue_mail(&self, new: NewMail) -> StoreResult<MailId> {
        let row = mail_row(new).insert(self.db()).await?;
        Ok(MailId(row.id))
    }

    async fn claim_mail(
        &self,
        now: Timestamp,
        lease: TimeDelta,
        limit: u32,
    ) -> StoreResult<Vec<OutboxMail>> {
        claim::<mail_outbox::Entity>(self.db(), &OUTBOX, now, lease, limit)
            .await?
            .into_iter()
            .map(mail_from_row)
            .collect()
    }

    async fn mark_mail_sent(&self, id: MailId, now: Timestamp) -> StoreResult<()> {
        use mail_outbox::Column as C;
        let result = mail_outbox::Entity::update_many()
            .col_expr(C::Status, Expr::value(MailStatus::Sent.as_str()))
            .col_expr(C::SentAt, Expr::value(at(now)))
            .col_expr(C::LockedUntil, Expr::value(Option::<Timestamp>::None))
            .filter(C::Id.eq(id.0))
            .exec(self.db())
            .await?;
        found(result.rows_affected, "outbox mail")
    }

    async fn mark_mails_sent(
        &self,
        sent: &[MailId],
        audit: Vec<NewAuditEvent>,
        now: Timestamp,
    ) -> StoreResult<()> {
        use mail_outbox::Column as C;
        let txn = self.begin_write().await?;
        if !sent.is_empty() {
            let result = mail_outbox::Entity::update_many()
                .col_expr(C::Status, Expr::value(MailStatus::Sent.as_str()))
                .col_expr(C::SentAt, Expr::value(at(now)))
                .col_expr(C::LockedUntil, Expr::value(Option::<Timestamp>::None))
                .filter(C::Id.is_in(sent.iter().map(|id| id.0)))
                .exec(&txn)
                .await?;
            found(result.rows_affected, "outbox mail")?;
        }
        append_audit_on(&txn, audit).await?;
        txn.commit().await?;
        Ok(())
    }

    async fn reschedule_mail(
        &self,
        id: MailId,
        error: &str,
        next_attempt_at: Timestamp,
    ) -> StoreResult<()> {
        use mail_outbox::Column as C;
        let result = mail_outbox::Entity::update_many()
            .col_expr(C::Status, Expr::value(MailStatus::Pending.as_str()))
            .col_expr(C::NextAttemptAt, Expr::value(at(next_attempt_at)))
            .col_expr(C::LockedUntil, Expr::value(Option::<Timestamp>::None))
            .col_expr(C::LastError, Expr::value(clip(error)))
            .filter(C::Id.eq(id.0))
            .filter(C::Status.ne(MailStatus::Sent.as_str()))
            .exec(self.db())
            .await?;
        found(result.rows_affected, "outbox mail")
    }

    async fn mark_mail_dead(&self, id: MailId, error: &str) -> StoreResult<()> {
        use mail_outbox::Column as C;
        let result = mail_outbox::Entity::update_many()
            .col_expr(C::Status, Expr::value(MailStatus::Dead.as_str()))
            .col_expr(C::LockedUntil, Expr::value(Option::<Timestamp>::None))
            .col_expr(C::LastError, Expr::value(clip(error)))
            .filter(C::Id.eq(id.0))
            .filter(C::Status.ne(MailStatus::Sent.as_str()))
            .exec(self.db())
            .await?;
        found(result.rows_affected, "outbox mail")
    }

    async fn mail(&self, tenant: &TenantId, id: MailId) -> StoreResult<Option<OutboxMail>> {
        mail_outbox::Entity::find_by_id(id.0)
            .filter(mail_outbox::Column::TenantId.eq(tenant.as_str()))
            .one(self.db())
            .await?
            .map(mail_from_row)
            .transpose()
    }
}

fn found(rows: u64, what: &'static str) -> StoreResult<()> {
    if rows == 0 {
        Err(StoreError::NotFound { what })
    } else {
        Ok(())
    }
}

#[async_trait]
impl JobRepo for Store {
    async fn enqueue_job(&self, new: NewJob) -> StoreResult<JobId> {
        insert_job(self.db(), new).await
    }

    async fn claim_jobs(
        &self,
        now: Timestamp,
        lease: TimeDelta,
        limit: u32,
    ) -> StoreResult<Vec<Job>> {
        claim::<reset_jobs::Entity>(self.db(), &JOBS, now, lease, limit)
            .await?
            .into_iter()
            .map(job_from_row)
            .collect()
    }

    async fn complete_job(&self, id: JobId, now: Timestamp) -> StoreResult<()> {
        use reset_jobs::Column as C;
        let result = reset_jobs::Entity::update_many()
            .col_expr(C::Status, Expr::value(JobStatus::Done.as_str()))
            .col_expr(C::FinishedAt, Expr::value(at(now)))
            .col_expr(C::LockedUntil, Expr::value(Option::<Timestamp>::None))
            .filter(C::Id.eq(id.0))
            .exec(self.db())
            .await?;
        found(result.rows_affected, "job")
    }

    async fn finish_jobs(&self, mut finished: Vec<FinishedJob>, now: Timestamp) -> StoreResult<()> {
        use reset_jobs::Column as C;
        if finished.is_empty() {
            return Ok(());
        }
        let txn = self.begin_write().await?;
        // In queue order, each job's supersessions just before its own rows: a later request
        // of the same user in this group supersedes the earlier one's link, never the reverse.
        finished.sort_by_key(|job| job.id);
        let ids: Vec<i64> = finished.iter().map(|job| job.id.0).collect();
        let mut mails = Vec::new();
        let mut audit = Vec::new();
        for job in finished {
            for old in &job.writes.supersede {
                invalidate_on(&txn, &old.tenant_id, &old.client_id, &old.user_id, now).await?;
            }
            reset_tokens::Entity::insert_many(job.writes.tokens.into_iter().map(token_row))
                .exec_without_returning(&txn)
                .await?;
            mails.extend(job.writes.mails);
            audit.extend(job.writes.audit);
        }
        let queued_mail = !mails.is_empty();
        for run in super::statement_runs(mails, |mail| {
            mail.body.ciphertext.len() + mail.recipient.len() + mail.message_id.len()
        }) {
            mail_outbox::Entity::insert_many(run.into_iter().map(mail_row))
                .exec(&txn)
                .await?;
        }
        append_audit_on(&txn, audit).await?;
        let result = reset_jobs::Entity::update_many()
            .col_expr(C::Status, Expr::value(JobStatus::Done.as_str()))
            .col_expr(C::FinishedAt, Expr::value(at(now)))
            .col_expr(C::LockedUntil, Expr::value(Option::<Timestamp>::None))
            .filter(C::Id.is_in(ids))
            .exec(&txn)
            .await?;
        found(result.rows_affected, "job")?;
        if queued_mail {
            self.announce_in(&txn, QueueChannel::Mail).await?;
        }
        txn.commit().await?;
        Ok(())
    }

    async fn retry_job(&self, id: JobId, error: &str, run_after: Timestamp) -> StoreResult<()> {
        use reset_jobs::Column as C;
        let result = reset_jobs::Entity::update_many()
            .col_expr(C::Status, Expr::value(JobStatus::Pending.as_str()))
            .col_expr(C::RunAfter, Expr::value(at(run_after)))
            .col_expr(C::LockedUntil, Expr::value(Option::<Timestamp>::None))
            .col_expr(C::LastError, Expr::value(clip(error)))
            .filter(C::Id.eq(id.0))
            .filter(C::Status.ne(JobStatus::Done.as_str()))
            .exec(self.db())
            .await?;
        found(result.rows_affected, "job")
    }

    async fn fail_job(&self, id: JobId, error: &str, now: Timestamp) -> StoreResult<()> {
        use reset_jobs::Column as C;
        let result = reset_jobs::Entity::update_many()
            .col_expr(C::Status, Expr::value(JobStatus::Failed.as_str()))
            .col_expr(C::FinishedAt, Expr::value(at(now)))
            .col_expr(C::LockedUntil, Expr::value(Option::<Timestamp>::None))
            .col_expr(C::LastError, Expr::value(clip(error)))
            .filter(C::Id.eq(id.0))
            .filter(C::Status.ne(JobStatus::Done.as_str()))
            .exec(self.db())
            .await?;
        found(result.rows_affected, "job")
    }

    async fn job(&self, tenant: &TenantId, id: JobId) -> StoreResult<Option<Job>> {
        reset_jobs::Entity::find_by_id(id.0)
            .filter(reset_jobs::Column::TenantId.eq(tenant.as_str()))
            .one(self.db())
            .await?
            .map(job_from_row)
            .transpose()
    }
}

/// Inserts `new` as pending jobs on `conn` with one statement; their ids, in row order.
pub(super) async fn insert_jobs(
    conn: &impl sea_orm::ConnectionTrait,
    new: Vec<NewJob>,
) -> StoreResult<Vec<JobId>> {
    let mut ids = Vec::with_capacity(new.len());
    for run in super::statement_runs(new, |job| job.payload.len() + job.kind.len()) {
        let keys = reset_jobs::Entity::insert_many(run.into_iter().map(job_row))
            .exec_with_returning_keys(conn)
            .await?;
        ids.extend(keys.into_iter().map(JobId));
    }
    Ok(ids)
}

/// Inserts `new` as a pending job on `conn` (the pool, or a transaction).
async fn insert_job(conn: &impl sea_orm::ConnectionTrait, new: NewJob) -> StoreResult<JobId> {
    let row = job_row(new).insert(conn).await?;
    Ok(JobId(row.id))
}

/// The row to queue for `new`.
fn job_row(new: NewJob) -> reset_jobs::ActiveModel {
    reset_jobs::ActiveModel {
        tenant_id: Set(new.tenant_id.as_str().to_owned()),
        client_id: Set(new.client_id.as_str().to_owned()),
        kind: Set(new.kind),
        payload: Set(new.payload),
        status: Set(JobStatus::Pending.as_str().to_owned()),
        attempts: Set(0),
        run_after: Set(at(new.run_after)),
        locked_until: Set(None),
        last_error: Set(None),
        created_at: Set(at(new.created_at)),
        finished_at: Set(None),
        ..Default::default()
    }
}
