//! [`Metrics`]: the Prometheus recorder and what feeds it. `/metrics` serves the text format
//! (the exporter's own HTTP listener is off: poem serves the page, beside the app).
//!
//! What is measured, and where it comes from:
//! - `passgate_http_requests_total{route,status}` and `passgate_http_request_duration_seconds
//!   {route}`: a middleware around the whole app. Routes are templates (`/v1/password-resets/
//!   {token}`), never raw paths, so no token reaches a label.
//! - `passgate_resets_requested_total{tenant,outcome}`, `passgate_resets_completed_total
//!   {tenant}`, `passgate_resets_failed_total{tenant,reason}`, `passgate_reset_mail_total
//!   {tenant,outcome}`, `passgate_rate_limited_total{tenant,bucket}`: the engine's security events
//!   (tracing target `passgate::security`), read by [`SecurityEventMetrics`].
//! - `passgate_policy_violations_total{rule}`: [`crate::metered::MeteredBackend`].
//! - `passgate_provider_request_duration_seconds{provider,endpoint}` and
//!   `passgate_provider_errors_total{provider,endpoint,kind}`: [`crate::metered::MeteredProviders`].
//! - `passgate_move_lookups_total{tenant,placement}` and `passgate_move_resets_total
//!   {tenant,served_by}`: a tenant moving from Janrain to Auth0, where look-ups found the address
//!   and where new passwords went (issue 19), by [`crate::metered::MeteredProviders`].
//! - `passgate_provider_calls_total{tenant}`, `passgate_provider_rate_limited_total{tenant}`,
//!   `passgate_provider_pace_waits_total{tenant}`, `passgate_provider_pace_wait_milliseconds_total
//!   {tenant}`: the provider client's pacing counters (Management API calls, 429 answers, waits
//!   for capacity), published by [`crate::metered::MeteredProviders`] after each call.
//! - `passgate_outbox_depth`, `passgate_outbox_oldest_age_seconds`, `passgate_tenant_cache_hit_ratio`:
//!   sampled every few seconds by [`Metrics::watch`].
//! - The pipeline, from request to relay, registered at zero when the recorder is installed so
//!   a dashboard sees every series from the first scrape ([`PIPELINE_GAUGES`],
//!   [`PIPELINE_COUNTERS`]): `passgate_pipeline_jobs_depth` and
//!   `passgate_pipeline_jobs_oldest_age_seconds` (reset jobs waiting or running, sampled like
//!   the outbox, whose two gauges are part of the set), `passgate_pipeline_jobs_done_total`
//!   (background reset steps finished: `reset.issue` events), `passgate_pipeline_mails_sent_total`
//!   (mails the relay accepted: `mail.delivery` `sent`), `passgate_pipeline_provider_waits_total`
//!   and `passgate_pipeline_provider_wait_milliseconds_total` (waits for provider capacity, all
//!   tenants: [`add_provider_waits`]).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use metrics::{Counter, Histogram, counter, gauge, histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use passgate_engine::{Clock as _, SECURITY_TARGET, SystemClock};
use passgate_store::Store;
use poem::http::StatusCode;
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, handler, web::Data};
use sea_orm::{ConnectionTrait, Statement};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Layer};

use crate::directory::CountedTenants;

/// How often the sampled gauges are refreshed.
const SAMPLE_EVERY: Duration = Duration::from_secs(5);

/// Pipeline gauges, set to zero at install and then sampled by [`Metrics::watch`].
pub const PIPELINE_GAUGES: [&str; 4] = [
    "passgate_pipeline_jobs_depth",
    "passgate_pipeline_jobs_oldest_age_seconds",
    "passgate_outbox_depth",
    "passgate_outbox_oldest_age_seconds",
];

/// Pipeline counters (throughput and provider waits), registered at zero at install.
pub const PIPELINE_COUNTERS: [&str; 4] = [
    "passgate_pipeline_jobs_done_total",
    "passgate_pipeline_mails_sent_total",
    "passgate_pipeline_provider_waits_total",
    "passgate_pipeline_provider_wait_milliseconds_total",
];

/// A handle on the process-wide Prometheus recorder. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

static GLOBAL: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

impl Metrics {
    /// The process-wide recorder, installed on first use (a recorder is global by design in
    /// the `metrics` facade, so every gateway of a process shares it). `None` when another
    /// recorder was installed first.
    pub fn global() -> Option<Self> {
        GLOBAL
            .get_or_init(|| {
                PrometheusBuilder::new()
                    .set_buckets(&[
                        0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                    ])
                    .ok()?
                    .install_recorder()
                    .ok()
                    .inspect(|_| register_pipeline_series())
            })
            .clone()
            .map(|handle| Self { handle })
    }

    /// The current text exposition.
    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// `GET /metrics`.
    pub fn endpoint(&self) -> impl Endpoint + 'static {
        render_metrics.data(self.clone())
    }

    /// Counts and times one request under its route template.
    pub async fn observe<E: Endpoint>(&self, next: Arc<E>, req: Request) -> poem::Result<Response> {
        let route = route_label(req.uri().path());
        let started = Instant::now();
        let result = next.call(req).await.map(IntoResponse::into_response);
        let status = match &result {
            Ok(response) => response.status(),
            Err(err) => err.status(),
        };
        let (requests, duration) = http_series(route, status);
        requests.increment(1);
        duration.record(started.elapsed().as_secs_f64());
        result
    }

    /// Samples the outbox and the tenant cache every few seconds (and runs the recorder's
    /// upkeep) until the runtime stops.
    pub fn watch(&self, store: Store, tenants: CountedTenants) {
        let handle = self.handle.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SAMPLE_EVERY);
            loop {
                tick.tick().await;
                handle.run_upkeep();
                sample_queue(&store, OUTBOX).await;
                sample_queue(&store, JOBS).await;
                let (lookups, loads) = tenants.lookups_and_loads();
                if lookups > 0 {
                    let hits = lookups.saturating_sub(loads);
                    #[allow(clippy::cast_precision_loss)] // a ratio: precision is irrelevant
                    gauge!("passgate_tenant_cache_hit_ratio").set(hits as f64 / lookups as f64);
                }
            }
        });
    }
}

/// `passgate_http_requests_total` and `passgate_http_request_duration_seconds` of one series.
type HttpSeries = (Counter, Histogram);

/// The request counter and duration histogram of one route and status, registered once:
/// building a labelled key and finding it in the registry per request costs more than the
/// count itself. Routes are templates and statuses few, so the map stays small.
fn http_series(route: &'static str, status: StatusCode) -> HttpSeries {
    static SERIES: LazyLock<RwLock<HashMap<(&'static str, u16), HttpSeries>>> =
        LazyLock::new(RwLock::default);
    let key = (route, status.as_u16());
    if let Some(series) = SERIES
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
    {
        return series.clone();
    }
    let series = (
        counter!("passgate_http_requests_total", "route" => route, "status" => key.1.to_string()),
        histogram!("passgate_http_request_duration_seconds", "route" => route),
    );
    SERIES
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key, series.clone());
    series
}

/// Registers the pipeline series at zero, so they are scraped before their first event.
fn register_pipeline_series() {
    for name in PIPELINE_GAUGES {
        gauge!(name).set(0.0);
    }
    for name in PIPELINE_COUNTERS {
        counter!(name).increment(0);
    }
}

/// The last pacing totals seen per tenant, so the all-tenant counters grow by the difference.
static PROVIDER_WAITS: LazyLock<Mutex<HashMap<String, (u64, u64)>>> = LazyLock::new(Mutex::default);

/// Adds a tenant's provider waits to the all-tenant pipeline counters. `waits` and
/// `waited_ms` are the provider client's running totals (as `metered` publishes them per
/// tenant); a total below the last one seen means a new client, whose totals count in full.
pub fn add_provider_waits(tenant: &str, waits: u64, waited_ms: u64) {
    let mut seen = PROVIDER_WAITS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let last = seen.entry(tenant.to_owned()).or_default();
    let grown = |now: u64, before: u64| now.checked_sub(before).unwrap_or(now);
    let (more_waits, more_ms) = (grown(waits, last.0), grown(waited_ms, last.1));
    *last = (waits, waited_ms);
    drop(seen);
    counter!("passgate_pipeline_provider_waits_total").increment(more_waits);
    counter!("passgate_pipeline_provider_wait_milliseconds_total").increment(more_ms);
}

#[handler]
fn render_metrics(metrics: Data<&Metrics>) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render())
}

/// A queue table and the gauges of its depth and oldest age.
struct Queue {
    /// Table name.
    table: &'static str,
    /// The statuses of rows still to be processed (waiting or claimed).
    waiting: &'static str,
    /// Gauge: rows waiting.
    depth: &'static str,
    /// Gauge: seconds since the oldest waiting row was created.
    oldest: &'static str,
}

/// Mail waiting to be sent.
const OUTBOX: Queue = Queue {
    table: "mail_outbox",
    waiting: "status IN ('pending', 'sending')",
    depth: "passgate_outbox_depth",
    oldest: "passgate_outbox_oldest_age_seconds",
};

/// Reset jobs (provider lookup, token, mail) waiting or running.
const JOBS: Queue = Queue {
    table: "reset_jobs",
    waiting: "status IN ('pending', 'running')",
    depth: "passgate_pipeline_jobs_depth",
    oldest: "passgate_pipeline_jobs_oldest_age_seconds",
};

/// How many rows of `queue` wait, and how long the oldest has waited.
async fn sample_queue(store: &Store, queue: Queue) {
    let Queue {
        table,
        waiting,
        depth,
        oldest,
    } = queue;
    let db = store.connection();
    let backend = db.get_database_backend();
    let count = db
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT COUNT(*) AS n FROM {table} WHERE {waiting}"),
        ))
        .await;
    let first = db
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT created_at FROM {table} WHERE {waiting} ORDER BY created_at LIMIT 1"),
        ))
        .await;
    match count.map(|row| row.map(|r| r.try_get::<i64>("", "n"))) {
        #[allow(clippy::cast_precision_loss)] // a queue length
        Ok(Some(Ok(n))) => gauge!(depth).set(n as f64),
        _ => tracing::debug!(table, "queue depth not sampled"),
    }
    let age = match first {
        Ok(Some(row)) => row
            .try_get::<DateTime<Utc>>("", "created_at")
            .ok()
            .map(|at| (SystemClock.now() - at).num_milliseconds().max(0)),
        Ok(None) => Some(0),
        Err(_) => None,
    };
    if let Some(ms) = age {
        #[allow(clippy::cast_precision_loss)] // seconds, for a dashboard
        gauge!(oldest).set(ms as f64 / 1000.0);
    }
}

/// The route template of `path`: fixed paths as they are, dynamic segments (tokens, client
/// ids, tenant ids) replaced by `{name}`; anything unknown is `other`, so label cardinality
/// stays bounded and no secret becomes a label.
pub fn route_label(path: &str) -> &'static str {
    const FIXED: &[&str] = &[
        "/",
        "/reset",
        "/reset/code",
        "/reset/janrain",
        "/reset/confirm",
        "/reset/confirm/check",
        "/healthz",
        "/readyz",
        "/metrics",
        "/v1/password-resets",
        "/v1/openapi.json",
        "/admin/openapi.json",
        "/dev/mailbox",
        "/dev/mailbox.json",
    ];
    if let Some(fixed) = FIXED.iter().find(|f| **f == path) {
        return fixed;
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["a", _, "reset"] => "/a/{client_id}/reset",
        ["static", ..] => "/static/{asset}",
        ["v1", "password-resets", _] => "/v1/password-resets/{token}",
        ["v1", "password-resets", _, "complete"] => "/v1/password-resets/{token}/complete",
        ["v1", "password-resets", _, "check"] => "/v1/password-resets/{token}/check",
        ["v1", "apps", _, "password-policy"] => "/v1/apps/{client_id}/password-policy",
        ["admin", "docs", ..] => "/admin/docs",
        ["admin", "v1", "tenants"] => "/admin/v1/tenants",
        ["admin", "v1", "tenants", _, rest @ ..] => admin_tenant_route(rest),
        ["admin", "v1", "keys", ..] => "/admin/v1/keys",
        ["admin", "v1", "audit", ..] => "/admin/v1/audit",
        ["admin", "v1", ..] => "/admin/v1/other",
        _ => "other",
    }
}

fn admin_tenant_route(rest: &[&str]) -> &'static str {
    match rest.first().copied() {
        None => "/admin/v1/tenants/{tenant}",
        Some("config") => "/admin/v1/tenants/{tenant}/config",
        Some("versions") => "/admin/v1/tenants/{tenant}/versions",
        Some("preview") => "/admin/v1/tenants/{tenant}/preview",
        Some("provider") => "/admin/v1/tenants/{tenant}/provider",
        Some("client-ids") => "/admin/v1/tenants/{tenant}/client-ids",
        Some(_) => "/admin/v1/tenants/{tenant}/other",
    }
}

/// A tracing layer that turns the engine's security events into counters: the engine already
/// reports every reset step there (with tenant and a fixed outcome vocabulary), so metrics
/// and the audit log cannot disagree.
#[derive(Debug, Default)]
pub struct SecurityEventMetrics;

impl<S: tracing::Subscriber> Layer<S> for SecurityEventMetrics {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() != SECURITY_TARGET {
            return;
        }
        let mut fields = EventFields::default();
        event.record(&mut fields);
        let (Some(action), Some(outcome)) = (fields.action, fields.outcome) else {
            return;
        };
        let tenant = fields.tenant.unwrap_or_else(|| "unknown".into());
        let outcome = label_value(&outcome);
        match action.as_str() {
            // One event per request: `reset.issue` once the background step ran (mailed,
            // unknown_user, …), `reset.requested` or `reset.rate_limited` when it stopped early.
            "reset.requested" => {
                counter!("passgate_resets_requested_total", "tenant" => tenant, "outcome" => outcome)
                    .increment(1);
            }
            "reset.issue" => {
                counter!("passgate_resets_requested_total", "tenant" => tenant, "outcome" => outcome)
                    .increment(1);
                counter!("passgate_pipeline_jobs_done_total").increment(1);
            }
            "reset.rate_limited" => {
                counter!("passgate_resets_requested_total", "tenant" => tenant.clone(), "outcome" => outcome.clone())
                    .increment(1);
                counter!("passgate_rate_limited_total", "tenant" => tenant, "bucket" => outcome)
                    .increment(1);
            }
            "reset.complete" if outcome == "ok" => {
                counter!("passgate_resets_completed_total", "tenant" => tenant).increment(1);
            }
            "reset.complete" => {
                counter!("passgate_resets_failed_total", "tenant" => tenant, "reason" => outcome)
                    .increment(1);
            }
            "reset.token_refused" => {
                counter!("passgate_resets_failed_total", "tenant" => tenant, "reason" => format!("link_{outcome}"))
                    .increment(1);
            }
            "mail.delivery" => {
                if outcome == "sent" {
                    counter!("passgate_pipeline_mails_sent_total").increment(1);
                }
                counter!("passgate_reset_mail_total", "tenant" => tenant, "outcome" => outcome)
                    .increment(1);
            }
            _ => {}
        }
    }
}

/// Keeps label values short and in a safe alphabet (outcomes are a fixed vocabulary; this
/// guards against a future free-text one).
fn label_value(text: &str) -> String {
    text.chars()
        .take(48)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[derive(Default)]
struct EventFields {
    action: Option<String>,
    outcome: Option<String>,
    tenant: Option<String>,
}

impl Visit for EventFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.set(field, value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.set(field, format!("{value:?}").trim_matches('"').to_owned());
    }
}

impl EventFields {
    fn set(&mut self, field: &Field, value: String) {
        match field.name() {
            "action" => self.action = Some(value),
            "outcome" => self.outcome = Some(value),
            "tenant" => self.tenant = Some(label_value(&value)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::route_label;

    #[test]
    fn tokens_and_ids_never_become_labels() {
        assert_eq!(
            route_label("/v1/password-resets/SECRETTOKEN123/complete"),
            "/v1/password-resets/{token}/complete"
        );
        assert_eq!(
            route_label("/v1/password-resets/SECRETTOKEN123"),
            "/v1/password-resets/{token}"
        );
        assert_eq!(route_label("/a/acme-ios/reset"), "/a/{client_id}/reset");
        assert_eq!(route_label("/reset/confirm"), "/reset/confirm");
        assert_eq!(
            route_label("/v1/password-resets/SECRETTOKEN123/check"),
            "/v1/password-resets/{token}/check"
        );
        assert_eq!(route_label("/reset/confirm/check"), "/reset/confirm/check");
        assert_eq!(route_label("/wp-admin/x.php"), "other");
        assert_eq!(
            route_label("/admin/v1/tenants/acme/config"),
            "/admin/v1/tenants/{tenant}/config"
        );
    }
}
