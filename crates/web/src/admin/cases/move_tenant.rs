//! A tenant's move from Janrain to its Auth0 binding (issue 19): start or change it (the
//! Janrain app, its server-side client and the policy), end it, and report where the
//! addresses of its recent requests were found.

use passgate_idp::domain::{JANRAIN_PLATFORM_SUFFIXES, check_provider_host};
use passgate_store::{AuditRepo, ConfigVersionRepo, MoveSource, ProviderBinding, TenantRepo};
use passgate_tenant::{ResetMode, TenantId, declared_reset_mode};
use secrecy::SecretString;
use serde_json::json;

use crate::admin::auth::Principal;
use crate::admin::state::AdminState;
use crate::problem::AdminError;

/// Starts or changes `tenant`'s move from `source` (the Janrain app and the secret of its
/// `owner`/`direct_access` client). The tenant must be bound to Auth0 (the target) and run
/// in hosted mode (the look-ups and writes are Passgate's). Audited as `tenant.move.set`.
pub(crate) async fn set_move(
    state: &AdminState,
    actor: &Principal,
    tenant: &TenantId,
    source: MoveSource,
    secret: &SecretString,
) -> Result<(), AdminError> {
    let row = existing(state, tenant).await?;
    if !matches!(row.provider, ProviderBinding::Auth0(_)) {
        return Err(AdminError::InvalidMove(
            "a move goes to the tenant's Auth0 binding: bind the tenant to Auth0 first \
             (PUT /tenants/{tenant} with provider.kind auth0), then name the Janrain app here"
                .into(),
        ));
    }
    let policy = source.policy;
    if policy.dry_run && (policy.migrate_on_reset || policy.reset_source_too) {
        return Err(AdminError::InvalidMove(
            "dry_run serves every reset from Janrain alone: migrate_on_reset and \
             reset_source_too would do nothing; leave them false until the dry run ends"
                .into(),
        ));
    }
    check_provider_host(
        &source.domain,
        JANRAIN_PLATFORM_SUFFIXES,
        &state.settings().provider_hosts,
    )
    .map_err(|_| AdminError::DomainRefused)?;
    if let Some(active) = state.store().active_version(tenant).await? {
        check_hosted(declared_reset_mode(&active.yaml).unwrap_or(ResetMode::Hosted))?;
    }
    let sealed = passgate_engine::seal_move_secret(state.keyring(), tenant, secret)
        .map_err(|e| AdminError::Sealing(e.to_string()))?;
    let details = json!({
        "source_domain": source.domain,
        "source_client_id": source.client_id,
        "reset_source_too": policy.reset_source_too,
        "migrate_on_reset": policy.migrate_on_reset,
        "dry_run": policy.dry_run,
        "key_id": state.keyring().active_key_id().as_str(),
    });
    state
        .store()
        .set_move(tenant, Some((source, sealed)), state.now())
        .await?;
    state
        .tenant_changed(actor, tenant, "tenant.move.set", details)
        .await;
    Ok(())
}

/// `tenant`'s row, or 404.
async fn existing(
    state: &AdminState,
    tenant: &TenantId,
) -> Result<passgate_store::Tenant, AdminError> {
    state
        .store()
        .tenant(tenant)
        .await?
        .ok_or(AdminError::NotFound("tenant"))
}

/// A moving tenant's reset mode must be `hosted`.
pub(crate) fn check_hosted(mode: ResetMode) -> Result<(), AdminError> {
    if mode == ResetMode::Hosted {
        return Ok(());
    }
    Err(AdminError::ModeMismatch(format!(
        "a tenant moving from Janrain to Auth0 runs in hosted mode (Passgate looks the address \
         up in both and sets the password where the account lives); reset.mode is `{}`",
        mode.as_str()
    )))
}

/// Ends `tenant`'s move: from now on it is served by its Auth0 binding alone; the Janrain
/// secret is erased. Audited as `tenant.move.end`.
pub(crate) async fn end_move(
    state: &AdminState,
    actor: &Principal,
    tenant: &TenantId,
) -> Result<(), AdminError> {
    let row = existing(state, tenant).await?;
    if row.moving_from.is_none() {
        return Err(AdminError::NotFound("move"));
    }
    state.store().set_move(tenant, None, state.now()).await?;
    state
        .tenant_changed(actor, tenant, "tenant.move.end", json!({}))
        .await;
    Ok(())
}

/// Where the addresses of a moving tenant's recent requests were found, and where its
/// recent new passwords went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct MoveCounts {
    /// Requests looked at (those whose look-up ran while the tenant was moving).
    pub requests: u32,
    /// Found only in Auth0.
    pub target_only: u32,
    /// Found only in Janrain (not moved yet).
    pub source_only: u32,
    /// Found in both.
    pub both: u32,
    /// Found in neither.
    pub neither: u32,
    /// New passwords set in Auth0.
    pub served_by_target: u32,
    /// New passwords set in Janrain.
    pub served_by_source: u32,
    /// New passwords set in both.
    pub served_by_both: u32,
    /// Accounts created in Auth0 on reset.
    pub migrated: u32,
}

/// Audit events read per page while counting.
const PAGE: u32 = 500;

/// Counts the placements of the last `last` requests of `tenant` whose look-up ran on the
/// move, and the password changes among the same events (newest first, reading at most
/// `10 × last` events so an old move cannot make it slow).
pub(crate) async fn move_report(
    state: &AdminState,
    tenant: &TenantId,
    last: u32,
) -> Result<MoveCounts, AdminError> {
    existing(state, tenant).await?;
    let mut counts = MoveCounts::default();
    let mut before = None;
    let mut read = 0u32;
    let budget = last.saturating_mul(10).max(PAGE);
    while counts.requests < last && read < budget {
        let batch = state.store().tenant_audit(tenant, PAGE, before).await?;
        for event in &batch {
            let e = &event.event;
            match e.action.as_str() {
                "reset.issue" if counts.requests < last => {
                    let placement = e.details.get("placement").and_then(|p| p.as_str());
                    let slot = match placement {
                        Some("target_only") => &mut counts.target_only,
                        Some("source_only") => &mut counts.source_only,
                        Some("both") => &mut counts.both,
                        Some("neither") => &mut counts.neither,
                        _ => continue,
                    };
                    *slot += 1;
                    counts.requests += 1;
                }
                "move.served" => {
                    let slot = match e.outcome.as_str() {
                        "target" => &mut counts.served_by_target,
                        "source" => &mut counts.served_by_source,
                        "both" => &mut counts.served_by_both,
                        "migrated" => &mut counts.migrated,
                        _ => continue,
                    };
                    *slot += 1;
                }
                _ => {}
            }
        }
        read = read.saturating_add(u32::try_from(batch.len()).unwrap_or(u32::MAX));
        if batch.len() < PAGE as usize {
            break;
        }
        before = batch.last().map(|e| e.id);
    }
    Ok(counts)
}
