//! The audit log (platform admins: every tenant; editors: their tenants) and a tenant's
//! reset statistics per day, computed from the engine's audit events.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use passgate_store::{AuditEvent, AuditId, AuditRepo};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::auth::{AdminAuth, require_platform_admin, require_tenant};
use super::state::AdminState;
use super::tags::Tags;
use crate::problem::AdminProblem;

/// Events fetched per store read while computing statistics.
const STATS_PAGE: u32 = 500;
/// Most events one statistics request reads (the answer says when it stopped early).
const STATS_MAX_EVENTS: usize = 50_000;

/// One audit event.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AuditEventView {
    /// Event id (increasing; page with `before`).
    pub id: i64,
    /// Tenant concerned, if any.
    pub tenant_id: Option<String>,
    /// Who: an API key (`key:pgk_… (label)`), `system`, `anonymous`, or `user:<id>`.
    pub actor: String,
    /// What, e.g. `config.write`, `reset.complete`, `admin.access_denied`.
    pub action: String,
    /// `ok`, `denied:…`, `failed:…`…
    pub outcome: String,
    /// The request that caused it.
    pub request_id: Option<String>,
    /// The app involved.
    pub client_id: Option<String>,
    /// Structured details (never secrets).
    pub details: serde_json::Value,
    /// When (UTC).
    pub created_at: DateTime<Utc>,
}

impl From<AuditEvent> for AuditEventView {
    fn from(e: AuditEvent) -> Self {
        Self {
            id: e.id.0,
            tenant_id: e.event.tenant_id.map(|t| t.as_str().to_owned()),
            actor: e.event.actor,
            action: e.event.action,
            outcome: e.event.outcome,
            request_id: e.event.request_id,
            client_id: e.event.client_id.map(|c| c.as_str().to_owned()),
            details: e.event.details,
            created_at: e.event.created_at,
        }
    }
}

/// A page of audit events, newest first.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AuditPage {
    /// The events.
    pub events: Vec<AuditEventView>,
    /// Pass as `before` to get the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

/// Reset statistics of one UTC day.
#[derive(Debug, Clone, Default, Object)]
pub struct DayStats {
    /// The day, `YYYY-MM-DD` (UTC).
    pub date: String,
    /// Reset requests received.
    pub requested: u64,
    /// Resets completed (password changed).
    pub completed: u64,
    /// Failures by reason (`complete:<outcome>`, `token:<outcome>`, `request:<outcome>`).
    pub failed: BTreeMap<String, u64>,
    /// While the tenant moves from Janrain to Auth0: completed resets by where the new
    /// password went (`target`, `source`, `both`, `migrated` = created in Auth0 on reset).
    pub served_by: BTreeMap<String, u64>,
}

/// A tenant's reset statistics.
#[derive(Debug, Clone, Object)]
pub struct StatsView {
    /// Days with activity, oldest first.
    pub days: Vec<DayStats>,
    /// Whether the event scan stopped at its cap before the start of the period.
    pub truncated: bool,
}

/// Answer of reading audit events.
#[derive(Debug, ApiResponse)]
pub enum AuditResponse {
    /// A page of events, newest first.
    #[oai(status = 200)]
    Ok(Json<AuditPage>),
}

/// Answer of reading statistics.
#[derive(Debug, ApiResponse)]
pub enum StatsResponse {
    /// Per-day counts.
    #[oai(status = 200)]
    Ok(Json<StatsView>),
}

/// Audit log and statistics.
#[derive(Debug)]
pub struct AuditApi;

fn page(events: Vec<AuditEvent>, limit: u32) -> AuditPage {
    let next_before = if events.len() == limit as usize {
        events.last().map(|e| e.id.0)
    } else {
        None
    };
    AuditPage {
        events: events.into_iter().map(AuditEventView::from).collect(),
        next_before,
    }
}

/// Adds one event to the per-day counts.
fn count(days: &mut BTreeMap<String, DayStats>, event: &AuditEvent) {
    let e = &event.event;
    let date = e.created_at.date_naive().to_string();
    let reason = |kind: &str| format!("{kind}:{}", e.outcome.trim_start_matches("failed:"));
    let day = days.entry(date.clone()).or_insert_with(|| DayStats {
        date,
        ..DayStats::default()
    });
    match e.action.as_str() {
        "reset.requested" => {
            day.requested += 1;
            if e.outcome != "queued" && e.outcome != "ok" {
                *day.failed.entry(reason("request")).or_default() += 1;
            }
        }
        "reset.complete" if e.outcome == "ok" => day.completed += 1,
        "reset.complete" => *day.failed.entry(reason("complete")).or_default() += 1,
        "reset.token_refused" => *day.failed.entry(reason("token")).or_default() += 1,
        "move.served" => *day.served_by.entry(e.outcome.clone()).or_default() += 1,
        _ => {}
    }
}

#[OpenApi(tag = "Tags::Audit")]
impl AuditApi {
    /// Read the audit log of every tenant
    #[oai(path = "/audit", method = "get", operation_id = "listAudit")]
    async fn all(
        &self,
        auth: AdminAuth,
        state: Data<&AdminState>,
        /// Page size (default 100, at most 500).
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<Option<u32>>,
        /// Only events older than this id (from `next_before`).
        before: Query<Option<i64>>,
    ) -> Result<AuditResponse, AdminProblem> {
        require_platform_admin(*state, &auth.0, "listAudit").await?;
        let limit = limit.0.unwrap_or(100);
        let events = state
            .store()
            .all_audit(limit, before.0.map(AuditId))
            .await?;
        Ok(AuditResponse::Ok(Json(page(events, limit))))
    }

    /// Read a tenant's audit log
    #[oai(
        path = "/tenants/:tenant/audit",
        method = "get",
        operation_id = "listTenantAudit"
    )]
    async fn tenant(
        &self,
        auth: AdminAuth,
        state: Data<&AdminState>,
        /// Tenant id.
        tenant: Path<String>,
        /// Page size (default 100, at most 500).
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<Option<u32>>,
        /// Only events older than this id (from `next_before`).
        before: Query<Option<i64>>,
    ) -> Result<AuditResponse, AdminProblem> {
        let id = require_tenant(*state, &auth.0, &tenant.0, "listTenantAudit").await?;
        let limit = limit.0.unwrap_or(100);
        let events = state
            .store()
            .tenant_audit(&id, limit, before.0.map(AuditId))
            .await?;
        Ok(AuditResponse::Ok(Json(page(events, limit))))
    }

    /// Reset statistics per day
    ///
    /// Requested, completed and failed (by reason) resets per UTC day over the last `days`
    /// days, from the audit log.
    #[oai(
        path = "/tenants/:tenant/stats",
        method = "get",
        operation_id = "tenantStats"
    )]
    async fn stats(
        &self,
        auth: AdminAuth,
        state: Data<&AdminState>,
        /// Tenant id.
        tenant: Path<String>,
        /// Period in days (default 30, at most 366).
        #[oai(validator(minimum(value = "1"), maximum(value = "366")))]
        days: Query<Option<u32>>,
    ) -> Result<StatsResponse, AdminProblem> {
        let state = *state;
        let id = require_tenant(state, &auth.0, &tenant.0, "tenantStats").await?;
        let since = state.now() - TimeDelta::days(i64::from(days.0.unwrap_or(30)));
        let mut counts = BTreeMap::new();
        let mut before = None;
        let mut seen = 0usize;
        let truncated = loop {
            let batch = state.store().tenant_audit(&id, STATS_PAGE, before).await?;
            let done = batch.len() < STATS_PAGE as usize;
            for event in &batch {
                if event.event.created_at < since {
                    break;
                }
                count(&mut counts, event);
            }
            seen += batch.len();
            let reached_start = batch.last().is_none_or(|e| e.event.created_at < since);
            if done || reached_start {
                break false;
            }
            if seen >= STATS_MAX_EVENTS {
                break true;
            }
            before = batch.last().map(|e| e.id);
        };
        Ok(StatsResponse::Ok(Json(StatsView {
            days: counts.into_values().collect(),
            truncated,
        })))
    }
}
