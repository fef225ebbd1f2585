//! `/console`: the admin API's face for people. A product owner (tenant-editor key) edits,
//! validates, previews, tests and publishes their app's YAML; a platform admin also onboards
//! apps and manages keys, sender domains and the audit log. The pages are server-rendered
//! shells with embedded assets and a strict per-response CSP; everything they do goes
//! through the admin API's own operations (`/admin/v1/…`), authenticated by the console
//! session cookie plus its CSRF token instead of a bearer key
//! ([`crate::admin::auth::AdminAuth`]), so role, scope, budgets and audit are the API's.
//!
//! Mount with `AppBuilder::nest("/console", console::routes(admin_state))` beside the admin
//! API (the pages' `AppState` comes from the builder).
//!
//! # Layout
//! - [`session`]: the session cookie, CSRF tokens, timeouts ([`ConsoleSettings`]).
//! - `sign_in`: the sign-in form, sign-out.
//! - [`oidc`]: sign-in through the company's OpenID Connect provider, when configured.
//! - `screens`: the pages (home, editor, platform admin) and their shell.
//! - `html`: escaping and the page frame with its CSP.
//! - `assets`: the embedded script and stylesheet (`crates/web/console/`).

mod assets;
mod html;
pub mod oidc;
mod screens;
pub mod session;
mod sign_in;

use poem::{Endpoint, EndpointExt, Route, get, post};

pub use oidc::ConsoleOidc;
pub use session::ConsoleSettings;

use crate::admin::AdminState;

/// Where the console is mounted.
pub const BASE: &str = "/console";

/// The console's routes, to nest at [`BASE`].
pub fn routes(state: AdminState) -> impl Endpoint {
    Route::new()
        .at("/", get(screens::home))
        .at("/sign-in", post(sign_in::sign_in))
        .at("/sign-out", post(sign_in::sign_out))
        .at("/oidc/start", get(oidc::start))
        .at("/oidc/callback", get(oidc::callback))
        .at("/tenants/:tenant", get(screens::editor))
        .at("/platform", get(screens::platform))
        .at("/assets/:name", get(assets::serve))
        .data(state)
}
