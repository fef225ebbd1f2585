//! Rate-limit windows and password history.

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta};
use passgate_tenant::TenantId;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::at;
use crate::entity::{password_history, rate_limit_windows};
use crate::error::{StoreError, StoreResult};
use crate::model::*;
use crate::repo::{HistoryRepo, RateLimitRepo};
use crate::store::Store;

/// The stored key: the scope (tenant id, or `*` for platform-wide buckets) and the key.
fn bucket_key(bucket: &RateBucket) -> String {
    let scope = bucket.tenant_id.as_ref().map_or("*", TenantId::as_str);
    format!("{scope}|{}", bucket.key)
}

/// The start of the fixed window containing `now` (windows aligned to the Unix epoch).
fn window_start(now: Timestamp, window: TimeDelta) -> Timestamp {
    let size = Ord::max(window.num_microseconds().unwrap_or(i64::MAX), 1);
    let micros = now.timestamp_micros();
    let start = micros - micros.rem_euclid(size);
    DateTime::from_timestamp_micros(start).unwrap_or(now)
}

/// Counts one hit on `bucket` on `conn` (the pool, or a transaction) with one upsert.
async fn hit_on(
    conn: &impl ConnectionTrait,
    bucket: &RateBucket,
    window: TimeDelta,
    limit: u32,
    now: Timestamp,
) -> StoreResult<RateDecision> {
    use rate_limit_windows::{Column as C, Entity};
    let start = window_start(at(now), window);
    let resets_at = start + window;
    let row = rate_limit_windows::ActiveModel {
        bucket_key: Set(bucket_key(bucket)),
        window_start: Set(start),
        tenant_id: Set(bucket.tenant_id.as_ref().map(|t| t.as_str().to_owned())),
        count: Set(1),
        expires_at: Set(resets_at),
    };
    // One statement: insert the window or add one to it, and read the new count back.
    let stored = Entity::insert(row)
        .on_conflict(
            OnConflict::columns([C::BucketKey, C::WindowStart])
                .value(C::Count, Expr::col((Entity, C::Count)).add(1))
                .to_owned(),
        )
        .exec_with_returning(conn)
        .await?;
    let count = u64::try_from(stored.count).unwrap_or(0);
    Ok(RateDecision {
        allowed: count <= u64::from(limit),
        count,
        resets_at,
    })
}

/// `admission` on `txn`: its buckets counted in order, then its job queued.
async fn admit_on(
    txn: &sea_orm::DatabaseTransaction,
    admission: Admission,
    now: Timestamp,
) -> StoreResult<Admitted> {
    let mut over = None;
    for (index, hit) in admission.always.iter().enumerate() {
        let decision = hit_on(txn, &hit.bucket, hit.window, hit.limit, now).await?;
        if !decision.allowed && over.is_none() {
            over = Some((index, decision.resets_at));
        }
    }
    if over.is_none() {
        let first = admission.always.len();
        for (offset, hit) in admission.then.iter().enumerate() {
            let decision = hit_on(txn, &hit.bucket, hit.window, hit.limit, now).await?;
            if !decision.allowed {
                over = Some((first + offset, decision.resets_at));
                break;
            }
        }
    }
    let job = match over {
        None => admission.admitted,
        Some((index, _)) => {
            admission
                .refused
                .into_iter()
                .nth(index)
                .ok_or(StoreError::NotFound {
                    what: "job for the bucket over its limit",
                })?
        }
    };
    let job = super::queue::insert_job(txn, job).await?;
    Ok(Admitted { over, job })
}

#[async_trait]
impl RateLimitRepo for Store {
    async fn hit(
        &self,
        bucket: &RateBucket,
        window: TimeDelta,
        limit: u32,
        now: Timestamp,
    ) -> StoreResult<RateDecision> {
        hit_on(self.db(), bucket, window, limit, now).await
    }

    async fn admit(&self, admission: Admission, now: Timestamp) -> StoreResult<Admitted> {
        let txn = self.begin_write().await?;
        let admitted = admit_on(&txn, admission, now).await?;
        self.announce_in(&txn, crate::QueueChannel::Jobs).await?;
        txn.commit().await?;
        Ok(admitted)
    }

    async fn admit_all(
        &self,
        admissions: Vec<(Admission, Timestamp)>,
    ) -> StoreResult<Vec<Admitted>> {
        let txn = self.begin_write().await?;
        let mut admitted = Vec::with_capacity(admissions.len());
        for (admission, now) in admissions {
            admitted.push(admit_on(&txn, admission, now).await?);
        }
        if !admitted.is_empty() {
            self.announce_in(&txn, crate::QueueChannel::Jobs).await?;
        }
        txn.commit().await?;
        Ok(admitted)
    }

    async fn purge_windows(&self, now: Timestamp) -> StoreResult<u64> {
        let result = rate_limit_windows::Entity::delete_many()
            .filter(rate_limit_windows::Column::ExpiresAt.lte(at(now)))
            .exec(self.db())
            .await?;
        Ok(result.rows_affected)
    }
}

#[async_trait]
impl HistoryRepo for Store {
    async fn recent_hashes(
        &self,
        tenant: &TenantId,
        user_id: &str,
        limit: u32,
    ) -> StoreResult<Vec<HistoryEntry>> {
        use password_history::Column as C;
        Ok(password_history::Entity::find()
            .filter(C::TenantId.eq(tenant.as_str()))
            .filter(C::UserId.eq(user_id))
            .order_by_desc(C::CreatedAt)
            .order_by_desc(C::Id)
            .limit(u64::from(limit))
            .all(self.db())
            .await?
            .into_iter()
            .map(|row| HistoryEntry {
                hash: row.hash,
                created_at: row.created_at,
            })
            .collect())
    }

    async fn record_password(
        &self,
        tenant: &TenantId,
        user_id: &str,
        hash: &str,
        keep: u32,
        now: Timestamp,
    ) -> StoreResult<()> {
        use password_history::Column as C;
        let txn = self.begin_write().await?;
        password_history::Entity::insert(password_history::ActiveModel {
            tenant_id: Set(tenant.as_str().to_owned()),
            user_id: Set(user_id.to_owned()),
            hash: Set(hash.to_owned()),
            created_at: Set(at(now)),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
        // Keep the newest `keep`; a user's history is short, so skip in Rust (SQLite has no
        // OFFSET without LIMIT).
        let ids: Vec<i64> = password_history::Entity::find()
            .select_only()
            .column(C::Id)
            .filter(C::TenantId.eq(tenant.as_str()))
            .filter(C::UserId.eq(user_id))
            .order_by_desc(C::CreatedAt)
            .order_by_desc(C::Id)
            .into_tuple()
            .all(&txn)
            .await?;
        let keep = usize::try_from(keep).unwrap_or(usize::MAX);
        let stale: Vec<i64> = ids.into_iter().skip(keep).collect();
        if !stale.is_empty() {
            password_history::Entity::delete_many()
                .filter(C::Id.is_in(stale))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }
}
