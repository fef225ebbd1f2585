//! A tenant's YAML configuration, for its editors (and platform admins): read the active
//! document, validate a draft, write a new version, list versions with diffs, roll back.
//!
//! Every write is validated first — the tenant crate's parse (schema, bounds, regexes,
//! script and its examples), then what only this layer knows: the document's `id` is the
//! tenant in the path, its `client_ids` are registered to this tenant, its theme exists and
//! every message the theme and the rules use resolves in every supported locale. A rejected
//! write changes nothing and lists every problem at once.
//!
//! Concurrency: the `ETag` of the config is the active version (`"7"`); `PUT` requires
//! `If-Match` (428 without, 412 when another version became active meanwhile), so two
//! editors never silently overwrite each other. Activation honours `If-Match` when sent.

use chrono::{DateTime, Utc};
use passgate_store::{ClientIdRepo, ConfigVersionRepo, NewConfigVersion, StoreError};
use passgate_tenant::{
    ClientId, Problem, Severity, TenantId, ValidatedTenant, parse_tenant_yaml_for,
};
use passgate_theme::ThemeError;
use poem::http::StatusCode;
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::json;
use similar::TextDiff;

use super::auth::{AdminAuth, require_tenant};
use super::problem::{ApiProblem, ConfigProblem};
use super::state::AdminState;
use super::tags::Tags;
use super::yaml_body::YamlText;

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

/// Whether an `If-Match` value matches the active version (`*` matches any).
fn if_match_ok(header: &str, active: u32) -> bool {
    header.split(',').map(str::trim).any(|tag| {
        tag == "*" || tag.trim_start_matches("W/").trim_matches('"') == active.to_string()
    })
}

/// Line and column of a top-level key in `yaml` (1:1 when absent), for problems this
/// layer finds after the parse.
fn position_of(yaml: &str, key: &str) -> (u32, u32) {
    yaml.lines()
        .position(|line| {
            line.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map_or((1, 1), |i| (u32::try_from(i + 1).unwrap_or(u32::MAX), 1))
}

fn problem_at(yaml: &str, key: &str, path: &str, message: String) -> ConfigProblem {
    let (line, column) = position_of(yaml, key);
    ConfigProblem {
        path: path.to_owned(),
        line,
        column,
        message,
        severity: "error".into(),
    }
}

/// Validates `yaml` as the document of `tenant`, whose registered client ids are
/// `registered`. `Ok` holds the warnings; `Err` every problem (errors and warnings).
pub fn check_document(
    state: &AdminState,
    tenant: &TenantId,
    registered: &[ClientId],
    yaml: &str,
) -> Result<(ValidatedTenant, Vec<ConfigProblem>), Vec<ConfigProblem>> {
    let source = format!("{tenant}.yaml");
    let validated = parse_tenant_yaml_for(tenant, &source, yaml).map_err(|errors| {
        errors
            .problems
            .iter()
            .map(ConfigProblem::from_problem)
            .collect::<Vec<_>>()
    })?;
    let mut problems: Vec<ConfigProblem> = Vec::new();
    let config = &validated.config;
    if config.id != *tenant {
        problems.push(problem_at(
            yaml,
            "id",
            "id",
            format!(
                "the document's id is `{}` but this is tenant `{tenant}`",
                config.id
            ),
        ));
    }
    for client in &config.client_ids {
        if !registered.contains(client) {
            problems.push(problem_at(
                yaml,
                "client_ids",
                "client_ids",
                format!(
                    "client id `{client}` is not registered to this tenant; a platform admin registers client ids"
                ),
            ));
        }
    }
    let themes = state.themes();
    let theme = config.theme.as_str();
    if themes.has_theme(theme) {
        let crate::startup::TenantCatalogs {
            locales: supported,
            overrides,
        } = crate::startup::TenantCatalogs::of(config);
        match themes.check_tenant(theme, &config.display_name, &supported, &overrides) {
            Ok(()) => {}
            Err(ThemeError::MissingMessages(missing)) => {
                for m in missing {
                    problems.push(problem_at(
                        yaml,
                        "messages",
                        &format!("messages.{}.{}", m.locale, m.key),
                        format!(
                            "no message `{}` in locale `{}` (theme `{}`): add it under messages.{}",
                            m.key, m.locale, m.theme, m.locale
                        ),
                    ));
                }
            }
            Err(other) => problems.push(problem_at(yaml, "theme", "theme", other.to_string())),
        }
        for locale in &supported {
            let catalog = passgate_theme::Messages::new(
                themes,
                theme,
                locale,
                overrides.get(locale).cloned().unwrap_or_default(),
            );
            if let Ok(catalog) = catalog {
                for key in config.referenced_message_keys() {
                    if catalog.get(key).is_none() {
                        problems.push(problem_at(
                            yaml,
                            "messages",
                            &format!("messages.{locale}.{key}"),
                            format!(
                                "the password rule message `{key}` has no text in locale `{locale}`"
                            ),
                        ));
                    }
                }
            }
        }
    } else {
        problems.push(problem_at(
            yaml,
            "theme",
            "theme",
            format!(
                "unknown theme `{theme}`; installed themes: {}",
                themes.names().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let warnings: Vec<ConfigProblem> = validated
        .warnings
        .iter()
        .filter(|p: &&Problem| p.severity == Severity::Warning)
        .map(ConfigProblem::from_problem)
        .collect();
    if problems.is_empty() {
        Ok((validated, warnings))
    } else {
        problems.extend(warnings);
        Err(problems)
    }
}

/// [`check_document`] as an API answer: 422 `invalid-config` with every problem.
pub fn validate_for_tenant(
    state: &AdminState,
    tenant: &TenantId,
    registered: &[ClientId],
    yaml: &str,
) -> Result<(ValidatedTenant, Vec<ConfigProblem>), ApiProblem> {
    check_document(state, tenant, registered, yaml).map_err(ApiProblem::invalid_config)
}

/// The tenant's registered client ids, or 404 when the tenant does not exist.
async fn registered_client_ids(
    state: &AdminState,
    tenant: &TenantId,
) -> Result<Vec<ClientId>, ApiProblem> {
    use passgate_store::TenantRepo;
    if state.store().tenant(tenant).await?.is_none() {
        return Err(ApiProblem::not_found("tenant"));
    }
    Ok(state.store().client_ids(tenant).await?)
}

fn precondition_failed(active: u32) -> ApiProblem {
    ApiProblem::new(
        StatusCode::PRECONDITION_FAILED,
        "version-conflict",
        "The configuration changed meanwhile",
        Some(format!(
            "version {active} is active now; GET the config, merge, and retry with If-Match: \"{active}\""
        )),
    )
}

/// A conditional write that lost a race becomes the same 412 as a stale `If-Match`.
fn conflict_as_precondition(err: StoreError) -> ApiProblem {
    match err {
        StoreError::VersionConflict { active, .. } => precondition_failed(active),
        other => other.into(),
    }
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
    ) -> Result<ActiveConfig, ApiProblem> {
        let id = require_tenant(*state, &auth.0, &tenant.0, "getConfig").await?;
        let active = state
            .store()
            .active_version(&id)
            .await?
            .ok_or_else(|| ApiProblem::not_found("tenant or active config"))?;
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
    ) -> Result<ConfigWritten, ApiProblem> {
        let state = *state;
        let id = require_tenant(state, &auth.0, &tenant.0, "putConfig").await?;
        let registered = registered_client_ids(state, &id).await?;
        let Some(if_match) = if_match.0 else {
            return Err(ApiProblem::new(
                StatusCode::PRECONDITION_REQUIRED,
                "if-match-required",
                "If-Match required",
                Some("send If-Match with the ETag of GET …/config".into()),
            ));
        };
        let (_, warnings) = validate_for_tenant(state, &id, &registered, &body.0)?;
        let active = state
            .store()
            .active_version(&id)
            .await?
            .map_or(0, |v| v.info.version);
        if !if_match_ok(&if_match, active) {
            return Err(precondition_failed(active));
        }
        // Published only if `active` is still active at commit: a write racing on another
        // replica gets 412, never a silent overwrite.
        let info = state
            .store()
            .publish_version(
                &id,
                NewConfigVersion {
                    yaml: body.0,
                    author: auth.0.actor(),
                    comment: comment.0,
                },
                active,
                state.now(),
            )
            .await
            .map_err(conflict_as_precondition)?;
        state.invalidate(&id);
        state
            .audit(
                &auth.0,
                Some(&id),
                "config.write",
                json!({ "version": info.version, "previous": active, "sha256": info.sha256 }),
            )
            .await;
        Ok(ConfigWritten::Created(
            Json(WriteResult {
                version: info.version,
                warnings,
            }),
            etag(info.version),
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
    ) -> Result<Validated, ApiProblem> {
        let state = *state;
        let id = require_tenant(state, &auth.0, &tenant.0, "validateConfig").await?;
        let registered = registered_client_ids(state, &id).await?;
        let report = match check_document(state, &id, &registered, &body.0) {
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
    ) -> Result<VersionList, ApiProblem> {
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
    ) -> Result<VersionText, ApiProblem> {
        let id = require_tenant(*state, &auth.0, &tenant.0, "getVersion").await?;
        let stored = state
            .store()
            .version(&id, version.0)
            .await?
            .ok_or_else(|| ApiProblem::not_found("config version"))?;
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
    ) -> Result<Activated, ApiProblem> {
        let state = *state;
        let id = require_tenant(state, &auth.0, &tenant.0, "activateVersion").await?;
        let registered = registered_client_ids(state, &id).await?;
        let stored = state
            .store()
            .version(&id, version.0)
            .await?
            .ok_or_else(|| ApiProblem::not_found("config version"))?;
        let (_, warnings) = validate_for_tenant(state, &id, &registered, &stored.yaml)?;
        let active = state
            .store()
            .active_version(&id)
            .await?
            .map_or(0, |v| v.info.version);
        if let Some(if_match) = &if_match.0
            && !if_match_ok(if_match, active)
        {
            return Err(precondition_failed(active));
        }
        state
            .store()
            .activate_version_if(&id, version.0, active, state.now())
            .await
            .map_err(conflict_as_precondition)?;
        state.invalidate(&id);
        state
            .audit(
                &auth.0,
                Some(&id),
                "config.activate",
                json!({ "version": version.0, "previous": active }),
            )
            .await;
        Ok(Activated::Ok(
            Json(WriteResult {
                version: version.0,
                warnings,
            }),
            etag(version.0),
        ))
    }
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

    #[test]
    fn positions_point_at_top_level_keys() {
        let yaml = "# c\nid: a\nclient_ids: [x]\n";
        assert_eq!(position_of(yaml, "id"), (2, 1));
        assert_eq!(position_of(yaml, "client_ids"), (3, 1));
        assert_eq!(position_of(yaml, "theme"), (1, 1));
    }
}
