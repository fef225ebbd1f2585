//! The admin API under `/admin/v1`: platform admins onboard tenants (client ids, provider
//! binding, sealed provider secret, API keys, audit); tenant editors read, validate, write,
//! preview and roll back their tenants' YAML. poem-openapi is the single source of truth:
//! the spec is served at `/admin/openapi.json` (snapshot-tested), Swagger UI at
//! `/admin/docs`, and every error is RFC 9457 problem+json with a stable `code`.
//!
//! Mount with `Route::new().nest("/admin", admin::routes(state))`. Authentication is a
//! bearer API key (`pgk_…`); the first one comes from `passgate admin create-key`.
//!
//! # Layout
//! - [`state`]: [`AdminState`], [`AdminParts`], [`AdminSettings`]: what handlers share.
//! - [`auth`]: API keys (mint, hash, check), [`auth::Principal`], role and tenant checks.
//! - [`problem`]: [`problem::AdminProblem`] (the documented error responses) and
//!   [`problem::AdminError`] (causes), mapped in one place.
//! - [`tenants`], [`tenant_input`]: tenant onboarding and management (platform admins),
//!   and its request bodies.
//! - `binding`: provider-binding bodies → typed bindings, checked like the provider client
//!   checks them; the reset mode / provider fit.
//! - [`cases`]: the use cases handlers call (plain functions, one transaction each).
//! - [`config`]: YAML read/validate/write, versions with diffs, rollback (editors).
//! - [`document`]: every check of one tenant document.
//! - [`checks`]: document checks on the blocking pool, in bounded slots.
//! - [`grants`]: sender domains and test recipients of a tenant (platform admins).
//! - `limits`: per-API-key request budgets (429 with `Retry-After`).
//! - [`rule_bench`]: the rule test bench: a password against a draft's rules.
//! - [`translations`]: per locale, the keys a draft words elsewhere only, and their fallbacks.
//! - [`preview`]: page and email previews, test emails (editors).
//! - [`keys`]: API key management (platform admins).
//! - [`moves`]: a tenant's move from Janrain to Auth0 (platform admins) and its report.
//! - [`audit`]: audit log and per-day reset statistics.
//! - [`tags`], [`views`], [`yaml_body`]: OpenAPI tags, shared bodies, the YAML payload.
//!   Errors are [`crate::problem::AdminProblem`]s; strings-only fields are
//!   [`crate::strict::Text`] (re-exported here as `strict`).
//! - `docs`: Swagger UI, self-hosted under its own CSP.
//! - `guard`: the middleware that turns every error into problem+json, refuses repeated
//!   JSON keys, and audits 401s.

pub mod audit;
pub mod auth;
mod binding;
pub mod cases;
pub mod checks;
pub mod config;
mod docs;
pub mod document;
pub mod grants;
mod guard;
pub mod keys;
mod limits;
pub mod moves;
pub mod preview;
pub mod rule_bench;
pub mod state;
pub use crate::strict;
pub mod tags;
pub mod tenant_input;
pub mod tenants;
pub mod translations;
pub mod views;
pub mod yaml_body;

use poem::{Endpoint, Route};
use poem_openapi::OpenApiService;

pub use state::{AdminParts, AdminSettings, AdminState};

/// Every admin resource, in spec order.
pub type AdminApis = (
    tenants::TenantsApi,
    moves::MovesApi,
    grants::GrantsApi,
    config::ConfigApi,
    rule_bench::RuleBenchApi,
    translations::TranslationsApi,
    preview::PreviewApi,
    keys::KeysApi,
    audit::AuditApi,
);

/// Where the operations live, relative to the server root.
pub const API_BASE: &str = "/admin/v1";

/// Largest request body accepted by the admin API.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The OpenAPI service of the admin API (also what the spec snapshot is taken from).
pub fn api_service() -> OpenApiService<AdminApis, ()> {
    OpenApiService::new(
        (
            tenants::TenantsApi,
            moves::MovesApi,
            grants::GrantsApi,
            config::ConfigApi,
            rule_bench::RuleBenchApi,
            translations::TranslationsApi,
            preview::PreviewApi,
            keys::KeysApi,
            audit::AuditApi,
        ),
        "Passgate admin API",
        "1.0.0",
    )
    .description(
        "Onboard apps (tenants), bind identity providers, and let product owners edit, \
         validate, preview, publish and roll back their tenant YAML. Authenticate with \
         `Authorization: Bearer pgk_…`. Errors are RFC 9457 problem+json with a stable `code`.",
    )
    .server(API_BASE)
}

/// The OpenAPI document as pretty JSON.
pub fn openapi_json() -> String {
    api_service().spec()
}

/// The admin endpoints, to nest at `/admin`: `/v1/…` (the API), `/openapi.json`, and
/// `/docs` (Swagger UI, unless turned off in [`AdminSettings::swagger_ui`]).
pub fn routes(state: AdminState) -> impl Endpoint {
    let api = api_service();
    let spec = api.spec_endpoint();
    let mut route = Route::new().at("/openapi.json", spec);
    if state.settings().swagger_ui {
        let assets = docs::SwaggerAssets::from_page(&api.swagger_ui_html());
        route = route.nest("/docs", docs::routes(assets));
    }
    let route = route.nest("/v1", api);
    guard::Guard::new(route, state)
}
