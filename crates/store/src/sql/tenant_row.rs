//! The columns of a tenant row that several writes set: a new row and the sealed provider
//! secret (the binding's columns: [`super::binding`]), and a tenant change.

use passgate_tenant::TenantId;
use sea_orm::Set;

use super::at;
use super::binding::set_binding_columns;
use crate::entity::tenants;
use crate::model::*;

/// A new active tenant row with no provider yet (creation, import, onboarding).
pub(super) fn new_tenant_row(
    id: &TenantId,
    display_name: &str,
    now: Timestamp,
) -> tenants::ActiveModel {
    tenants::ActiveModel {
        id: Set(id.as_str().to_owned()),
        display_name: Set(display_name.to_owned()),
        status: Set(TenantStatus::Active.as_str().to_owned()),
        created_at: Set(at(now)),
        updated_at: Set(at(now)),
        ..Default::default()
    }
}

/// The sealed provider secret's columns of a tenant row (`None` clears them).
pub(super) fn set_secret(row: &mut tenants::ActiveModel, secret: Option<EncryptedBlob>) {
    let (ciphertext, nonce, key_id) = match secret {
        Some(s) => (Some(s.ciphertext), Some(s.nonce), Some(s.key_id)),
        None => (None, None, None),
    };
    row.provider_secret_ciphertext = Set(ciphertext);
    row.provider_secret_nonce = Set(nonce);
    row.provider_secret_key_id = Set(key_id);
}

/// Sets the columns a [`TenantChange`] names, leaving the others as they are.
pub(super) fn apply_change(row: &mut tenants::ActiveModel, change: TenantChange) {
    let TenantChange {
        display_name,
        provider,
        provider_secret,
    } = change;
    if let Some(name) = display_name {
        row.display_name = Set(name);
    }
    if let Some(binding) = provider {
        set_binding_columns(row, binding);
    }
    if provider_secret.is_some() {
        set_secret(row, provider_secret);
    }
}
