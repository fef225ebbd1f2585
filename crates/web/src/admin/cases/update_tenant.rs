//! Tenant update: a new display name and/or a new provider binding (with, optionally, a new
//! secret). A binding must fit the tenant's active YAML (its reset mode must run on that
//! provider); the secret is sealed here; every part is stored in one write
//! ([`passgate_store::TenantRepo::update_tenant`]), so a failure changes nothing.

use passgate_store::{ProviderBinding, TenantChange, TenantRepo};
use passgate_tenant::TenantId;
use serde_json::json;

use crate::admin::auth::Principal;
use crate::admin::binding::{CheckedBinding, fit_active_config};
use crate::admin::state::AdminState;
use crate::problem::AdminError;

/// What the request asks to change (already parsed and checked as the provider client
/// checks a binding).
#[derive(Default)]
pub(crate) struct TenantEdit {
    /// A new display name.
    pub display_name: Option<String>,
    /// A new provider binding, with the secret the body carried.
    pub binding: Option<CheckedBinding>,
}

/// By hand: the binding may carry a secret in clear, so only its presence shows.
impl std::fmt::Debug for TenantEdit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantEdit")
            .field("display_name", &self.display_name)
            .field("binding", &self.binding.as_ref().map(|b| &b.binding))
            .finish()
    }
}

/// Applies `edit` to `tenant` (which the caller has found); see the module doc. Audited as
/// `tenant.update` with the names of the parts changed.
pub(crate) async fn update_tenant(
    state: &AdminState,
    actor: &Principal,
    tenant: &TenantId,
    edit: TenantEdit,
) -> Result<(), AdminError> {
    let mut change = TenantChange {
        display_name: edit.display_name,
        ..TenantChange::default()
    };
    if let Some(CheckedBinding {
        binding, secret, ..
    }) = edit.binding
    {
        let moving = state
            .store()
            .tenant(tenant)
            .await?
            .is_some_and(|row| row.moving_from.is_some());
        if moving && !matches!(binding, ProviderBinding::Auth0(_)) {
            return Err(AdminError::InvalidMove(
                "the tenant is moving from Janrain to its Auth0 binding: end the move \
                 (DELETE /tenants/{tenant}/move) before binding it to another provider"
                    .into(),
            ));
        }
        fit_active_config(state, tenant, &binding).await?;
        change.provider = Some(binding);
        change.provider_secret = match secret {
            Some(secret) => Some(
                passgate_engine::seal_provider_secret(state.keyring(), tenant, &secret)
                    .map_err(|e| AdminError::Sealing(e.to_string()))?,
            ),
            None => None,
        };
    }
    let changed = change.parts();
    state
        .store()
        .update_tenant(tenant, change, state.now())
        .await?;
    state
        .tenant_changed(
            actor,
            tenant,
            "tenant.update",
            json!({ "changed": changed }),
        )
        .await;
    Ok(())
}
