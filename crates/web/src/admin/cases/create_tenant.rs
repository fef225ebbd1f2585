//! Tenant creation: the document is checked like any config write (off the executor), the
//! provider secret is sealed, and everything the tenant starts with is stored in one
//! transaction ([`passgate_store::TenantRepo::onboard_tenant`]): a taken tenant id or
//! client id, or any failure, leaves nothing behind.

use passgate_store::{ProviderBinding, TenantOnboarding, TenantRepo};
use passgate_tenant::{ClientId, TenantId, check_mode_fits};
use secrecy::SecretString;
use serde_json::json;

use crate::admin::auth::Principal;
use crate::admin::binding::family_of;
use crate::admin::checks::{Document, check_off_executor};
use crate::admin::grants::SenderRule;
use crate::admin::state::AdminState;
use crate::problem::AdminError;

/// A tenant to create, as the request named it (already parsed).
#[derive(Debug)]
pub struct NewTenant {
    /// Its id.
    pub id: TenantId,
    /// Its display name.
    pub display_name: String,
    /// Its client ids.
    pub client_ids: Vec<ClientId>,
    /// Its provider binding, if given (checked as the provider client checks it); the
    /// document's reset mode must fit it.
    pub provider: Option<ProviderBinding>,
    /// The provider secret in clear; sealed here, never stored so.
    pub secret: Option<SecretString>,
    /// Version 1 of its YAML.
    pub yaml: String,
    /// Sender domains granted to it (normalised).
    pub sender_domains: Vec<String>,
}

/// Creates the tenant; see the module doc. Audited as `tenant.create`.
pub async fn create_tenant(
    state: &AdminState,
    actor: &Principal,
    new: NewTenant,
) -> Result<(), AdminError> {
    let document = Document {
        tenant: new.id.clone(),
        registered: new.client_ids.clone(),
        senders: SenderRule::new(new.sender_domains.clone(), &state.settings().mail_from),
        yaml: new.yaml.clone(),
    };
    let (validated, _) = check_off_executor(state, document)
        .await?
        .map_err(AdminError::InvalidConfig)?;
    if let Some(family) = new.provider.as_ref().and_then(family_of) {
        check_mode_fits(validated.config.reset.mode, family)
            .map_err(|mismatch| AdminError::ModeMismatch(mismatch.to_string()))?;
    }
    let provider_secret = match &new.secret {
        Some(secret) => Some(
            passgate_engine::seal_provider_secret(state.keyring(), &new.id, secret)
                .map_err(|e| AdminError::Sealing(e.to_string()))?,
        ),
        None => None,
    };
    let onboarding = TenantOnboarding {
        id: new.id.clone(),
        display_name: new.display_name.clone(),
        client_ids: new.client_ids.clone(),
        yaml: new.yaml,
        author: actor.actor(),
        provider: new.provider,
        provider_secret,
        sender_domains: new.sender_domains.clone(),
    };
    state
        .store()
        .onboard_tenant(onboarding, state.now())
        .await?;
    state.invalidate(&new.id);
    state
        .audit(
            actor,
            Some(&new.id),
            "tenant.create",
            json!({
                "display_name": new.display_name,
                "client_ids": new.client_ids.iter().map(ClientId::as_str).collect::<Vec<_>>(),
                "provider_secret": if new.secret.is_some() { "set" } else { "none" },
                "sender_domains": new.sender_domains,
            }),
        )
        .await;
    Ok(())
}
