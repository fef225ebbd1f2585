//! A tenant's YAML configuration, for its editors (and platform admins): read the active
//! document, validate a draft, write a new version, list versions with diffs, roll back.
//!
//! Every write is validated first ([`super::document`]: schema, bounds, regexes, script and
//! its examples, id, client ids, sender domain, theme and messages), on the blocking pool in
//! a bounded slot ([`super::checks`]). A rejected write changes nothing and lists every
//! problem at once.
//!
//! Concurrency: the `ETag` of the config is the active version (`"7"`); `PUT` requires
//! `If-Match` (428 without, 412 when another version became active meanwhile), so two
//! editors never silently overwrite each other. Activation honours `If-Match` when sent.
//! The writes themselves are use cases ([`super::cases::publish_config`]); the handlers
//! here extract, call and map.

use chrono::{DateTime, Utc};
use passgate_store::ConfigVersionRepo;
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use similar::TextDiff;

use super::auth::{AdminAuth, require_tenant};
use super::cases::publish_config::{
    ConfigWrite, activate_version, publish_config, registered_client_ids,
};
use super::checks::check_for_tenant;
use super::state::AdminState;
use super::tags::Tags;
use super::yaml_body::YamlText;
use crate::problem::{AdminProblem, ConfigProblem};

/// Most versions one listing returns.
const MAX_VERSIONS_LISTED: u32 = 100;

/// The outcome of validating a document.
#[derive(Debug, Clone, Object)]
pub struct ValidationReport {
    /// Whether the document would be accepted.
    pub valid: bool,
    /// Every problem (errors and warnings) in document order.
    pub problems: Vec<ConfigProblem>,
}

/// A stored version.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct VersionView {
    /// Version number (1, 2, 3…).
    pub version: u32,
    /// Who wrote it (API key prefix and label, or `cli:import`).
    pub author: String,
    /// The author's note.
    pub comment: Option<String>,
    /// When it was stored (UTC).
    pub created_at: DateTime<Utc>,
    /// Whether it is the one being served.
    pub active: bool,
    /// SHA-256 of the YAML text (hex).
    pub sha256: String,
    /// Unified diff against the previous version (empty for version 1).
    pub diff: String,
}

/// What a successful write stored.
#[derive(Debug, Clone, Object)]
pub struct WriteResult {
    /// The new (now active) version.
    pub version: u32,
    /// Warnings the author should know about (the document was accepted).
    pub warnings: Vec<ConfigProblem>,
}

/// Answer of reading the active config.
#[derive(Debug, ApiResponse)]
pub enum ActiveConfig {
    /// The active YAML; `ETag` is its version, to send back in `If-Match`.
    #[oai(status = 200)]
    Ok(YamlText, #[oai(header = "ETag")] String),
}

/// Answer of writing a config.
#[derive(Debug, ApiResponse)]
pub enum ConfigWritten {
    /// Stored and activated; `ETag` is the new version.
    #[oai(status = 201)]
    Created(Json<WriteResult>, #[oai(header = "ETag")] String),
}

/// Answer of a dry-run validation.
#[derive(Debug, ApiResponse)]
pub enum Validated {
    /// The verdict, with every problem; nothing was stored.
    #[oai(status = 200)]
    Ok(Json<ValidationReport>),
}

/// Answer of listing versions.
#[derive(Debug, ApiResponse)]
pub enum VersionList {
    /// Versions, newest first, each with its diff against the previous one.
    #[oai(status = 200)]
    Ok(Json<Vec<VersionView>>),
}

/// Answer of reading one version.
#[derive(Debug, ApiResponse)]
pub enum VersionText {
    /// The version's YAML exactly as written.
    #[oai(status = 200)]
    Ok(YamlText),
}

/// Answer of activating a version.
#[derive(Debug, ApiResponse)]
pub enum Activated {
    /// The version now serves; `ETag` is its number.
    #[oai(status = 200)]
    Ok(Json<WriteResult>, #[oai(header = "ETag")] String),
}

/// Tenant configuration (editors of the tenant and platform admins).
#[derive(Debug)]
pub struct ConfigApi;

/// The `ETag` of a config version.
pub fn etag(version: u32) -> String {
    format!("\"{version}\"")
}

#[OpenApi(tag = "Tags::Config")]
impl ConfigApi {
    /// Get the active YAML
    #[oai(
        path = "/tenants/:tenant/config",
        method = "get",
        operation_id = "getConfig"
    )]
    async fn get_config(
        &self,
        auth: AdminAuth,
        state: Data<&AdminState>,
        /// Tenant id.
        tenant: Path<String>,
    ) -> Result<ActiveConfig, AdminProblem> {
        let id = require_tenant(*state, &auth.0, &tenant.0, "getConfig").await?;
        let active = state
            .store()
            .active_version(&id)
            .await?
            .ok_or_else(|| AdminProblem::not_found("tenant or active config"))?;
        Ok(ActiveConfig::Ok(
            YamlText(active.yaml),
            etag(active.info.version),
        ))
    }

    /// Replace the YAML
    ///
    /// Validates the document, stores it as a new version and activates it atomically.
    /// Requires `If-Match` with the active version's `ETag`. On any problem: 422 with every
    /// problem, and the active version keeps serving.
    #[oai(
        path = "/tenants/:tenant/config",
        method = "put",
        operation_id = "putConfig"
    )]
    async fn put_config(
        &self,
        auth: AdminAuth,
        state: Data<&AdminState>,
        /// Tenant id.
        tenant: Path<String>,
        /// The active version's `ETag` (e.g. `"3"`); required.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        /// A note for the version history.
        #[oai(validator(max_length = 500))]
        comment: Query<Option<String>>,
        body: YamlText,
    ) -> Result<ConfigWritten, AdminProblem> {
        let state = *state;
        let id = require_tenant(state, &auth.0, &tenant.0, "putConfig").await?;
        let write = ConfigWrite {
            yaml: body.0,
            comment: comment.0,
            if_match: if_match.0,
        };
        let published = publish_config(state, &auth.0, &id, write).await?;
        Ok(ConfigWritten::Created(
            Json(WriteResult {
                version: published.version,
                warnings: published.warnings,
            }),
            etag(published.version),
        ))
    }

    /// Validate a draft (dry run)
    ///
    /// Runs every check of a write and reports every problem; stores nothing.
    #[oai(
        path = "/tenants/:tenant/config/validate",
        method = "post",
        operation_id = "validateConfig"
    )]
    async fn validate(
        &self,
        auth: AdminAuth,
        state: Data<&AdminState>,
        /// Tenant id.
        tenant: Path<String>,
        body: YamlText,
    ) -> Result<Validated, AdminProblem> {
        let state = *state;
        let id = require_tenant(state, &auth.0, &tenant.0, "validateConfig").await?;
        let registered = registered_client_ids(state, &id).await?;
        let report = match check_for_tenant(state, &id, registered, body.0).await? {
            Ok((_, warnings)) => ValidationReport {
                valid: true,
                problems: warnings,
            },
            Err(problems) => ValidationReport {
                valid: false,
                problems,
            },
        };
        Ok(Validated::Ok(Json(report)))
    }

    /// List versions
    ///
    /// Newest first, each with author, time and a unified diff against the previous one.
    #[oai(
        path = "/tenants/:tenant/config/versions",
        method = "get",
        operation_id = "listVersions"
    )]
    async fn versions(
        &self,
        auth: AdminAuth,
        state: Data<&AdminState>,
        /// Tenant id.
        tenant: Path<String>,
        /// How many versions (default 20, at most 100).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
    ) -> Result<VersionList, AdminProblem> {
        let state = *state;
        let id = require_tenant(state, &auth.0, &tenant.0, "listVersions").await?;
        registered_client_ids(state, &id).await?;
        let limit = limit.0.unwrap_or(20).min(MAX_VERSIONS_LISTED) as usize;
        let store = state.store();
        let infos = store.versions(&id).await?;
        let mut out = Vec::new();
        for info in infos.iter().rev().take(limit) {
            let text = store
                .version(&id, info.version)
                .await?
                .map(|v| v.yaml)
                .unwrap_or_default();
            let previous = match info.version.checked_sub(1) {
                Some(prev) if prev > 0 => store.version(&id, prev).await?.map(|v| v.yaml),
                _ => None,
            };
            let diff = match previous {
                Some(prev) => TextDiff::from_lines(&prev, &text)
                    .unified_diff()
                    .context_radius(3)
                    .header(
                        &format!("v{}", info.version - 1),
                        &format!("v{}", info.version),
                    )
                    .to_string(),
                None => String::new(),
            };
            out.push(VersionView {
                version: info.version,
                author: info.author.clone(),
                comment: info.comment.clone(),
                created_at: info.created_at,
                active: info.is_active,
                sha256: info.sha256.clone(),
                diff,
            });
        }
        Ok(VersionList::Ok(Json(out)))
    }

    /// Get one version's YAML
    #[oai(
        path = "/tenants/:tenant/config/versions/:version",
        method = "get",
        operation_id = "getVersion"
    )]
    async fn version(
        &self,
        auth: AdminAuth,
        state: Data<&AdminState>,
        /// Tenant id.
        tenant: Path<String>,
        /// Version number.
        version: Path<u32>,
    ) -> Result<VersionText, AdminProblem> {
        let id = require_tenant(*state, &auth.0, &tenant.0, "getVersion").await?;
        let stored = state
            .store()
            .version(&id, version.0)
            .await?
            .ok_or_else(|| AdminProblem::not_found("config version"))?;
        Ok(VersionText::Ok(YamlText(stored.yaml)))
    }

    /// Activate a version (rollback)
    ///
    /// Makes an earlier (or any) version the active one, after validating it again against
    /// today's themes and client ids. Honours `If-Match` when sent.
    #[oai(
        path = "/tenants/:tenant/config/versions/:version/activate",
        method = "post",
        operation_id = "activateVersion"
    )]
    async fn activate(
        &self,
        auth: AdminAuth,
        state: Data<&AdminState>,
        /// Tenant id.
        tenant: Path<String>,
        /// Version number.
        version: Path<u32>,
        /// The active version's `ETag`; optional here.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
    ) -> Result<Activated, AdminProblem> {
        let state = *state;
        let id = require_tenant(state, &auth.0, &tenant.0, "activateVersion").await?;
        let published = activate_version(state, &auth.0, &id, version.0, if_match.0).await?;
        Ok(Activated::Ok(
            Json(WriteResult {
                version: published.version,
                warnings: published.warnings,
            }),
            etag(published.version),
        ))
    }
}
