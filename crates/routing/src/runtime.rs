//! What a resolved client id gives the engine and the web layer.

use passgate_tenant::{CompiledPolicy, TenantConfig, TenantId};

/// A tenant ready to serve: its validated config and compiled password policy at one config
/// version. Shared (`Arc`) by every client id of the tenant and rebuilt only when the active
/// version changes. Non-exhaustive so later issues can add handles (e.g. the theme) without
/// breaking callers.
#[derive(Debug)]
#[non_exhaustive]
pub struct TenantRuntime {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The validated configuration.
    pub config: TenantConfig,
    /// The compiled password policy (regexes built, script compiled once per version).
    pub policy: CompiledPolicy,
    /// The config version this runtime was built from.
    pub version: u32,
    /// SHA-256 (hex) of that version's YAML: an ETag for the config.
    pub sha256: String,
}

impl TenantRuntime {
    /// Builds a runtime (routing does this on a cache miss; tests and previews may too).
    pub fn new(
        tenant_id: TenantId,
        config: TenantConfig,
        policy: CompiledPolicy,
        version: u32,
        sha256: String,
    ) -> Self {
        Self {
            tenant_id,
            config,
            policy,
            version,
            sha256,
        }
    }
}
