//! `/healthz` and `/readyz`, for load balancers and orchestrators.
//!
//! - `/healthz` answers 200 while the process can answer at all (liveness: restart me if not).
//! - `/readyz` answers 200 only when the database answers and has no pending migration
//!   (readiness: send me traffic). A replica started before `passgate migrate` ran, or one
//!   that lost its database, is taken out of rotation instead of serving errors.
//!
//! Bodies are small JSON documents with no detail an attacker could use.

use passgate_store::Store;
use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{IntoResponse, Response, handler};
use serde_json::json;

/// Liveness.
#[handler]
pub fn healthz() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// How long readiness waits for the database. While it is down, the pool waits up to its
/// acquire timeout (30 s) for a connection; a probe must answer "not ready" well before a
/// load balancer's own probe timeout instead.
const READINESS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Readiness: the database is reachable and its schema is current.
#[handler]
pub async fn readyz(store: Data<&Store>) -> Response {
    let pending = tokio::time::timeout(READINESS_TIMEOUT, store.pending_migrations()).await;
    let (status, reason) = match pending {
        Ok(Ok(0)) => (StatusCode::OK, None),
        Ok(Ok(_)) => (StatusCode::SERVICE_UNAVAILABLE, Some("migrations pending")),
        Err(_) => {
            tracing::warn!("readiness check: no database answer within 2 s");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Some("database unreachable"),
            )
        }
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Some("database unreachable"),
            )
        }
    };
    let body = match reason {
        None => json!({ "status": "ready" }),
        Some(reason) => json!({ "status": "unavailable", "reason": reason }),
    };
    Json(body).with_status(status).into_response()
}
