//! The tenant's password policy as a step: the pure check of `passgate_policy` run on the
//! blocking pool, because the JavaScript rule may take its full CPU budget. Used by the
//! redemption (every mode) and the live check.

use std::sync::Arc;

use passgate_policy::{CheckContext, Violation};
use secrecy::{ExposeSecret, SecretString};

use crate::{outcome::Unavailable, tenants::TenantRuntime};

/// Every violation of `password` under `tenant`'s compiled policy.
pub(crate) async fn check_policy(
    tenant: &Arc<TenantRuntime>,
    password: &SecretString,
    context: CheckContext,
) -> Result<Vec<Violation>, Unavailable> {
    let tenant = Arc::clone(tenant);
    let password = password.clone();
    tokio::task::spawn_blocking(move || {
        passgate_policy::check(&tenant.policy, password.expose_secret(), &context)
    })
    .await
    .map_err(|_| Unavailable::Worker)
}
