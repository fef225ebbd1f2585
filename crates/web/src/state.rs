//! [`AppState`]: what every handler shares, passed explicitly (no globals).

use std::sync::Arc;

use passgate_engine::TenantDirectory;
use passgate_theme::Themes;

use crate::{backend::ResetBackend, security::csrf::CsrfKey, settings::WebSettings};

/// Shared handles of the pages and the public API. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The reset engine (or, in in-process tests, a stand-in).
    pub backend: Arc<dyn ResetBackend>,
    /// Client id → tenant (the same directory the engine uses: the routing cache).
    pub tenants: Arc<dyn TenantDirectory>,
    /// Loaded themes (templates, catalogs, static files).
    pub themes: Arc<Themes>,
    /// Platform settings of the HTTP layer.
    pub settings: Arc<WebSettings>,
    /// Signs CSRF tokens (the engine keyring's `derive("csrf")`).
    pub csrf_key: CsrfKey,
    /// Hosted pages rendered once and spliced per request.
    pub pages: Arc<crate::pages::cache::RenderedPages>,
    /// Policy documents serialized once per configuration version × app × locale.
    pub policy_answers: Arc<crate::api::policy::PolicyAnswers>,
}

/// Version segment of static asset URLs. Assets are cached for a year (`immutable`), so the
/// URL changes with every release.
pub const ASSET_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The URL prefix static assets are served under (`/static/<version>`).
pub fn static_prefix() -> String {
    format!("/static/{ASSET_VERSION}")
}
