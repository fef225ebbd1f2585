//! Per-key budgets of the admin API: every authenticated request counts against its API
//! key's requests-per-minute window, and the expensive operations (those that parse and
//! compile a tenant document, or send mail: create tenant, write, validate, activate,
//! preview, test email) against a second, smaller one. Windows live in the store's
//! rate-limit table, so every replica shares them. Over budget: 429 problem+json with
//! `Retry-After`.

use chrono::TimeDelta;
use passgate_store::{ApiKeyId, RateBucket, RateLimitRepo};
use poem::http::Method;

use super::state::AdminState;
use crate::problem::{AdminProblem, Code};

/// Whether the operation at `method path` does document or mail work.
pub(crate) fn is_expensive(method: &Method, path: &str) -> bool {
    let path = path.trim_end_matches('/');
    match *method {
        Method::PUT => path.ends_with("/config"),
        Method::POST => {
            path.ends_with("/config/validate")
                || path.ends_with("/config/rule-bench")
                || path.ends_with("/config/translations")
                || path.ends_with("/activate")
                || path.ends_with("/preview")
                || path.ends_with("/test-email")
                || path.ends_with("/v1/tenants")
        }
        _ => false,
    }
}

/// Counts one request of `key`; the problem to answer with when a budget is spent.
pub(crate) async fn charge(
    state: &AdminState,
    key: ApiKeyId,
    expensive: bool,
) -> Result<(), AdminProblem> {
    let settings = state.settings();
    let mut buckets = vec![("", settings.requests_per_minute)];
    if expensive {
        buckets.push((":expensive", settings.expensive_requests_per_minute));
    }
    let now = state.now();
    for (suffix, limit) in buckets {
        let bucket = RateBucket {
            tenant_id: None,
            key: format!("admin:key:{}{suffix}", key.0),
        };
        let decision = state
            .store()
            .hit(&bucket, TimeDelta::minutes(1), limit, now)
            .await
            .map_err(|err| {
                tracing::error!(target: "passgate::admin", error = %err, "admin rate limit not counted");
                AdminProblem::from(
                    Code::Unavailable.detail("the request could not be counted; retry shortly"),
                )
            })?;
        if !decision.allowed {
            let wait = decision.resets_at.signed_duration_since(now);
            let seconds =
                u64::try_from(wait.num_milliseconds().saturating_add(999) / 1000).unwrap_or(1);
            let which = if suffix.is_empty() {
                "requests"
            } else {
                "expensive requests (validate, write, activate, preview, test email, create tenant)"
            };
            tracing::info!(
                target: passgate_engine::SECURITY_TARGET,
                key_id = key.0,
                limit,
                expensive = !suffix.is_empty(),
                "admin rate limit hit"
            );
            return Err(AdminProblem::from(
                Code::RateLimited
                    .detail(format!(
                        "this API key may make {limit} {which} per minute; retry after {seconds} s"
                    ))
                    .retry_after(seconds),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_and_mail_operations_are_expensive() {
        for (method, path) in [
            (Method::PUT, "/admin/v1/tenants/a/config"),
            (Method::POST, "/admin/v1/tenants/a/config/validate"),
            (
                Method::POST,
                "/admin/v1/tenants/a/config/versions/2/activate",
            ),
            (Method::POST, "/admin/v1/tenants/a/preview"),
            (Method::POST, "/admin/v1/tenants/a/test-email"),
            (Method::POST, "/admin/v1/tenants"),
        ] {
            assert!(is_expensive(&method, path), "{method} {path}");
        }
        for (method, path) in [
            (Method::GET, "/admin/v1/tenants/a/config"),
            (Method::GET, "/admin/v1/tenants"),
            (Method::POST, "/admin/v1/keys"),
        ] {
            assert!(!is_expensive(&method, path), "{method} {path}");
        }
    }
}
