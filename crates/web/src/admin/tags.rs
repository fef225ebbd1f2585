//! The OpenAPI tags: one per admin resource.

use poem_openapi::Tags as DeriveTags;

/// Admin API resources.
#[derive(Debug, DeriveTags)]
pub enum Tags {
    /// Tenants: onboarding, provider binding and secret, client ids, status (platform admins).
    Tenants,
    /// A tenant's YAML configuration: read, validate, write, versions, rollback (editors).
    Config,
    /// Rendered previews of hosted pages and emails, and test emails (editors).
    Preview,
    /// API keys (platform admins).
    Keys,
    /// Audit log and reset statistics.
    Audit,
}
