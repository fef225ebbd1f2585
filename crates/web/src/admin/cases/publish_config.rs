//! Config writes: publish a new version of a tenant's YAML, or activate (roll back to) a
//! stored one. Each checks the document as every write does (off the executor, against the
//! tenant's client ids, sender grants and provider binding), then stores in one conditional
//! write that succeeds only if the version the editor based it on is still active
//! ([`passgate_store::ConfigVersionRepo::publish_version`],
//! [`passgate_store::ConfigVersionRepo::activate_version_if`]): a write racing on another
//! replica loses with [`AdminError::VersionConflict`], never a silent overwrite.

use passgate_store::{ClientIdRepo, ConfigVersionRepo, NewConfigVersion, TenantRepo};
use passgate_tenant::{ClientId, TenantId};
use serde_json::json;

use crate::admin::auth::Principal;
use crate::admin::checks::check_for_tenant;
use crate::admin::state::AdminState;
use crate::problem::{AdminError, ConfigProblem};

/// A new version as the editor sent it.
#[derive(Debug)]
pub struct ConfigWrite {
    /// The YAML.
    pub yaml: String,
    /// A note for the version history.
    pub comment: Option<String>,
    /// The `If-Match` header: the `ETag` of the version the edit is based on.
    pub if_match: Option<String>,
}

/// A version now active, with the document's warnings.
#[derive(Debug)]
pub struct Published {
    /// The version number (its `ETag`).
    pub version: u32,
    /// Warnings of the check (the write went through).
    pub warnings: Vec<ConfigProblem>,
}

/// Publishes `write` as `tenant`'s new active version. `If-Match` is required. Audited as
/// `config.write`.
pub async fn publish_config(
    state: &AdminState,
    actor: &Principal,
    tenant: &TenantId,
    write: ConfigWrite,
) -> Result<Published, AdminError> {
    let registered = registered_client_ids(state, tenant).await?;
    let if_match = write.if_match.ok_or(AdminError::IfMatchRequired)?;
    let warnings = checked(state, tenant, registered, write.yaml.clone()).await?;
    let active = active_version(state, tenant).await?;
    if !if_match_ok(&if_match, active) {
        return Err(AdminError::VersionConflict { active });
    }
    let info = state
        .store()
        .publish_version(
            tenant,
            NewConfigVersion {
                yaml: write.yaml,
                author: actor.actor(),
                comment: write.comment,
            },
            active,
            state.now(),
        )
        .await?;
    state
        .tenant_changed(
            actor,
            tenant,
            "config.write",
            json!({ "version": info.version, "previous": active, "sha256": info.sha256 }),
        )
        .await;
    Ok(Published {
        version: info.version,
        warnings,
    })
}

/// Activates stored `version` of `tenant` (a rollback, or a roll forward). `If-Match` is
/// honoured when sent. The stored document is checked again: the tenant's client ids,
/// grants or binding may have changed since it was written. Audited as `config.activate`.
pub async fn activate_version(
    state: &AdminState,
    actor: &Principal,
    tenant: &TenantId,
    version: u32,
    if_match: Option<String>,
) -> Result<Published, AdminError> {
    let registered = registered_client_ids(state, tenant).await?;
    let stored = state
        .store()
        .version(tenant, version)
        .await?
        .ok_or(AdminError::NotFound("config version"))?;
    let warnings = checked(state, tenant, registered, stored.yaml).await?;
    let active = active_version(state, tenant).await?;
    if let Some(if_match) = &if_match
        && !if_match_ok(if_match, active)
    {
        return Err(AdminError::VersionConflict { active });
    }
    state
        .store()
        .activate_version_if(tenant, version, active, state.now())
        .await?;
    state
        .tenant_changed(
            actor,
            tenant,
            "config.activate",
            json!({ "version": version, "previous": active }),
        )
        .await;
    Ok(Published { version, warnings })
}

/// The tenant's registered client ids, or [`AdminError::NotFound`] when it does not exist.
pub async fn registered_client_ids(
    state: &AdminState,
    tenant: &TenantId,
) -> Result<Vec<ClientId>, AdminError> {
    if state.store().tenant(tenant).await?.is_none() {
        return Err(AdminError::NotFound("tenant"));
    }
    Ok(state.store().client_ids(tenant).await?)
}

/// The document's warnings, or every problem as [`AdminError::InvalidConfig`].
async fn checked(
    state: &AdminState,
    tenant: &TenantId,
    registered: Vec<ClientId>,
    yaml: String,
) -> Result<Vec<ConfigProblem>, AdminError> {
    match check_for_tenant(state, tenant, registered, yaml).await? {
        Ok((_, warnings)) => Ok(warnings),
        Err(problems) => Err(AdminError::InvalidConfig(problems)),
    }
}

async fn active_version(state: &AdminState, tenant: &TenantId) -> Result<u32, AdminError> {
    Ok(state
        .store()
        .active_version(tenant)
        .await?
        .map_or(0, |v| v.info.version))
}

/// Whether an `If-Match` value matches the active version (`*` matches any).
fn if_match_ok(header: &str, active: u32) -> bool {
    header.split(',').map(str::trim).any(|tag| {
        tag == "*" || tag.trim_start_matches("W/").trim_matches('"') == active.to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_accepts_quoted_bare_weak_and_star() {
        assert!(if_match_ok("\"3\"", 3));
        assert!(if_match_ok("3", 3));
        assert!(if_match_ok("W/\"3\"", 3));
        assert!(if_match_ok("\"1\", \"3\"", 3));
        assert!(if_match_ok("*", 9));
        assert!(!if_match_ok("\"2\"", 3));
        assert!(!if_match_ok("\"33\"", 3));
    }
}
