//! Rate-limit windows and password history.

use std::collections::HashMap;

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

/// One hit of a group: which admission, which of its buckets, and when.
struct GroupHit<'a> {
    admission: usize,
    index: usize,
    hit: &'a BucketHit,
    now: Timestamp,
}

/// Counts `hits` (each a bucket and the time of its hit) on `conn` (the pool, or a
/// transaction) with one upsert row per distinct window (as many per statement as
/// [`super::statement_runs`] allows), adding how many of `hits` fall in it. The n-th hit on a window (in order) sees the count before the statement
/// plus n, exactly as if they had been counted one after another.
async fn hit_all_on(
    conn: &impl ConnectionTrait,
    hits: &[(&BucketHit, Timestamp)],
) -> StoreResult<Vec<RateDecision>> {
    use rate_limit_windows::{Column as C, Entity};
    if hits.is_empty() {
        return Ok(Vec::new());
    }
    /// A window the group counts in, and how many of its hits fall in it.
    struct Window {
        row: rate_limit_windows::ActiveModel,
        adding: i64,
        /// Bytes of its variable-length values (bucket key, tenant id).
        bytes: usize,
    }
    let mut windows: Vec<Window> = Vec::new();
    let mut position_of: HashMap<(String, Timestamp), usize> = HashMap::new();
    let mut of_hit = Vec::with_capacity(hits.len());
    for (hit, now) in hits {
        let start = window_start(at(*now), hit.window);
        let resets_at = start + hit.window;
        let key = bucket_key(&hit.bucket);
        let position = *position_of.entry((key.clone(), start)).or_insert_with(|| {
            let tenant = hit.bucket.tenant_id.as_ref().map(|t| t.as_str().to_owned());
            windows.push(Window {
                bytes: key.len() + tenant.as_ref().map_or(0, String::len),
                row: rate_limit_windows::ActiveModel {
                    bucket_key: Set(key),
                    window_start: Set(start),
                    tenant_id: Set(tenant),
                    count: Set(0),
                    expires_at: Set(resets_at),
                },
                adding: 0,
            });
            windows.len() - 1
        });
        windows[position].adding += 1;
        of_hit.push((position, windows[position].adding, resets_at));
    }
    // Insert each window or add the group's hits to it, and read the new counts back. A
    // window is in one statement only, so splitting the rows keeps the counts exact.
    let excluded = sea_orm::sea_query::Alias::new("excluded");
    let mut stored = Vec::with_capacity(windows.len());
    let sized: Vec<&Window> = windows.iter().collect();
    for run in super::statement_runs(sized, |window| window.bytes) {
        let rows = run.into_iter().map(|window| {
            let mut row = window.row.clone();
            row.count = Set(window.adding);
            row
        });
        let returned = Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([C::BucketKey, C::WindowStart])
                    .value(
                        C::Count,
                        Expr::col((Entity, C::Count)).add(Expr::col((excluded.clone(), C::Count))),
                    )
                    .to_owned(),
            )
            .exec_with_returning(conn)
            .await?;
        stored.extend(returned);
    }
    let mut before = vec![0i64; windows.len()];
    for row in stored {
        if let Some(&position) = position_of.get(&(row.bucket_key, row.window_start)) {
            before[position] = row.count - windows[position].adding;
        }
    }
    Ok(hits
        .iter()
        .zip(of_hit)
        .map(|((hit, _), (position, nth, resets_at))| {
            let count = u64::try_from(before[position] + nth).unwrap_or(0);
            RateDecision {
                allowed: count <= u64::from(hit.limit),
                count,
                resets_at,
            }
        })
        .collect())
}

/// The decisions for a group's `hits`, counted with [`hit_all_on`].
async fn hit_group_on(
    txn: &sea_orm::DatabaseTransaction,
    hits: &[GroupHit<'_>],
) -> StoreResult<Vec<RateDecision>> {
    let pairs: Vec<(&BucketHit, Timestamp)> = hits.iter().map(|h| (h.hit, h.now)).collect();
    hit_all_on(txn, &pairs).await
}

/// `admissions` on `txn` as if admitted one after another, in a few statements whatever
/// their number: every `always` bucket of the group in one upsert, then each rank of `then`
/// buckets (for the admissions still within their limits) in one, then every job in one
/// insert.
async fn admit_together_on(
    txn: &sea_orm::DatabaseTransaction,
    admissions: &[(Admission, Timestamp)],
) -> StoreResult<Vec<Admitted>> {
    let mut over: Vec<Option<(usize, Timestamp)>> = vec![None; admissions.len()];
    let always: Vec<GroupHit<'_>> = admissions
        .iter()
        .enumerate()
        .flat_map(|(i, (admission, now))| {
            admission
                .always
                .iter()
                .enumerate()
                .map(move |(index, hit)| GroupHit {
                    admission: i,
                    index,
                    hit,
                    now: *now,
                })
        })
        .collect();
    for (hit, decision) in always.iter().zip(hit_group_on(txn, &always).await?) {
        let first = &mut over[hit.admission];
        if !decision.allowed && first.is_none_or(|(index, _)| hit.index < index) {
            *first = Some((hit.index, decision.resets_at));
        }
    }
    let ranks = admissions
        .iter()
        .map(|(a, _)| a.then.len())
        .max()
        .unwrap_or(0);
    for rank in 0..ranks {
        let then: Vec<GroupHit<'_>> = admissions
            .iter()
            .enumerate()
            .filter(|(i, _)| over[*i].is_none())
            .filter_map(|(i, (admission, now))| {
                admission.then.get(rank).map(|hit| GroupHit {
                    admission: i,
                    index: admission.always.len() + rank,
                    hit,
                    now: *now,
                })
            })
            .collect();
        for (hit, decision) in then.iter().zip(hit_group_on(txn, &then).await?) {
            if !decision.allowed {
                over[hit.admission] = Some((hit.index, decision.resets_at));
            }
        }
    }
    let mut jobs = Vec::with_capacity(admissions.len());
    for ((admission, _), over) in admissions.iter().zip(&over) {
        let job = match over {
            None => &admission.admitted,
            Some((index, _)) => admission.refused.get(*index).ok_or(StoreError::NotFound {
                what: "job for the bucket over its limit",
            })?,
        };
        jobs.push(job.clone());
    }
    let mut ids = super::queue::insert_jobs(txn, jobs).await?;
    // Ids are drawn in the order of the rows.
    ids.sort_unstable();
    Ok(over
        .into_iter()
        .zip(ids)
        .map(|(over, job)| Admitted { over, job })
        .collect())
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
        let hit = BucketHit {
            bucket: bucket.clone(),
            window,
            limit,
        };
        hit_all_on(self.db(), &[(&hit, now)])
            .await?
            .pop()
            .ok_or(StoreError::NotFound {
                what: "rate-limit window",
            })
    }

    async fn admit(&self, admission: Admission, now: Timestamp) -> StoreResult<Admitted> {
        self.admit_all(&[(admission, now)])
            .await?
            .pop()
            .ok_or(StoreError::NotFound {
                what: "admitted request",
            })
    }

    async fn admit_all(&self, admissions: &[(Admission, Timestamp)]) -> StoreResult<Vec<Admitted>> {
        if admissions.is_empty() {
            return Ok(Vec::new());
        }
        let txn = self.begin_write().await?;
        let admitted = admit_together_on(&txn, admissions).await?;
        self.announce_in(&txn, crate::QueueChannel::Jobs).await?;
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
