//! Passgate's HTTP server: the hosted reset pages, the public JSON API under `/v1` (for
//! native screens) and, mounted by its own module, the admin API. Every response passes
//! through one middleware that sets the security headers; handlers are short: read the
//! request → call the engine → render a page or a JSON document.
//!
//! Build the endpoint with [`app`] (or [`AppBuilder`] to nest more routes, e.g. the admin
//! API) from an [`AppState`]; run [`startup::check_tenants`] before serving.
//!
//! # Layout
//! - [`state`], [`settings`]: [`AppState`] and [`WebSettings`].
//! - [`backend`]: [`ResetBackend`], the one seam to the engine.
//! - [`security`]: headers with a CSP nonce, CSRF, `__Host-` cookies.
//! - [`pages`]: the hosted pages (request, inbox, code, new password, success, invalid
//!   link, errors) and static theme assets.
//! - [`api`]: the public JSON API and its OpenAPI document.
//! - [`problem`]: every problem type ([`problem::Code`]) and the one RFC 9457 document
//!   shape, for `/v1`, the admin API and the statuses of the hosted pages.
//! - [`strict`]: request hardening of both APIs (strings-only fields, duplicate JSON keys).
//! - [`policy_view`]: a tenant's password rules as data for browsers and apps.
//! - [`locale`], [`form`]: locale negotiation; strict form and query parsing.
//! - [`tenant_check`]: the one tenant check (theme installed, every template renders in
//!   every locale, every message resolves): at startup, on admin writes, and by
//!   `passgate tenant validate`.
//! - [`startup`]: [`tenant_check`] over every tenant before serving.
//! - [`error`]: the crate's error type, [`WebError`].
//! - [`admin`]: the admin API under `/admin/v1`.
//! - [`console`]: `/console`, the admin API's browser face for product owners and platform
//!   admins (session sign-in with an admin key, editor, preview, publish, onboarding).

pub mod admin;
pub mod api;
pub mod backend;
pub mod console;
pub mod error;
pub mod form;
pub mod locale;
pub mod pages;
pub mod policy_view;
pub mod problem;
pub mod security;
pub mod settings;
pub mod startup;
pub mod state;
pub mod strict;
pub mod tenant_check;

use std::sync::Arc;

use poem::{EndpointExt, IntoEndpoint, endpoint::BoxEndpoint};

pub use backend::ResetBackend;
pub use error::WebError;
pub use security::csrf::CsrfKey;
pub use settings::WebSettings;
pub use state::AppState;

/// The whole HTTP app for `state`: pages at `/`, the public API at `/v1`.
pub fn app(state: AppState) -> BoxEndpoint<'static> {
    AppBuilder::new(state).build()
}

/// Builds the app with extra route trees (the admin API, health, metrics) nested beside
/// the pages and the public API, all behind the same security headers.
pub struct AppBuilder {
    state: AppState,
    nested: Vec<(String, BoxEndpoint<'static>)>,
}

impl std::fmt::Debug for AppBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppBuilder")
            .field(
                "nested",
                &self.nested.iter().map(|(p, _)| p).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl AppBuilder {
    /// Starts from the pages and the public API.
    pub fn new(state: AppState) -> Self {
        Self {
            state,
            nested: Vec::new(),
        }
    }

    /// Nests `endpoint` under `prefix` (e.g. `"/admin"`).
    #[must_use]
    pub fn nest<E>(mut self, prefix: impl Into<String>, endpoint: E) -> Self
    where
        E: IntoEndpoint,
        E::Endpoint: 'static,
    {
        self.nested.push((
            prefix.into(),
            endpoint.into_endpoint().map_to_response().boxed(),
        ));
        self
    }

    /// The finished endpoint.
    pub fn build(self) -> BoxEndpoint<'static> {
        let settings = Arc::clone(&self.state.settings);
        let mut route = pages::routes().nest("/v1", api::routes(&self.state));
        for (prefix, endpoint) in self.nested {
            route = route.nest(prefix, endpoint);
        }
        pages::with_not_found(route)
            .data(self.state)
            .around(move |next, req| security::headers::around(Arc::clone(&settings), next, req))
            .map_to_response()
            .boxed()
    }
}
