//! The hosted pages. Every handler is short: read the request → call the engine through
//! [`crate::backend::ResetBackend`] → render a page or redirect.
//!
//! | route | page |
//! |---|---|
//! | `GET /reset?client_id=…`, `GET /a/{client_id}/reset` | request form |
//! | `POST` to either | 303 to `/reset/sent` (link mode) or `/reset/code` (code mode; the flow id in a cookie), or the rate-limited page |
//! | `GET /reset/sent?client_id=…` | "check your inbox" (Reload posts nothing again) |
//! | `GET /reset/code?client_id=…` | code entry for the flow in the flow cookie |
//! | `POST /reset/code` | moves flow + code into the reset cookie, 303 to `/reset/confirm` |
//! | `GET /reset/confirm?token=…` | moves the token into the reset cookie, 303 to `/reset/confirm` |
//! | `GET /reset/janrain?client_id=…&code=…` | the same for a Janrain code |
//! | `GET /reset/confirm` | new password (or the one invalid-link page) |
//! | `POST /reset/confirm` | 303 to the allowlisted redirect URI, or to `/reset/done` |
//! | `GET /reset/done` | the success page of the reset this browser just finished |
//! | `POST /reset/confirm/check` | the live check of the held link (JSON), consumes nothing |
//! | `GET /static/{version}/{theme}/{file}` | theme assets, cached for a year |
//!
//! # Layout
//! - [`view`]: rendering a page (theme, messages, nonce, CSRF token).
//! - [`request`]: the request form and its POST.
//! - [`confirm`]: token/code intake, the new-password page and its POST.
//! - [`held`]: the reset credential held in the `__Host-pg-reset` cookie, the finished
//!   reset and the pending code flow.
//! - [`dead_end`]: invalid link, rate limited, bad redirect, stale form, success.
//! - [`assets`]: static files.

pub mod assets;
pub mod cache;
pub mod confirm;
pub mod dead_end;
pub mod held;
pub mod live_check;
pub mod request;
pub mod view;

use std::{net::IpAddr, sync::Arc};

use passgate_engine::TenantRuntime;
use passgate_tenant::ClientId;
use passgate_theme::{FieldError, Page};
use poem::{Body, Endpoint, EndpointExt, Request, Response, Route, get, http::StatusCode, post};

use crate::{form::Form, security::csrf, state::AppState};
use view::{Env, PageSpec};

/// The page routes (mounted at `/` by [`crate::AppBuilder`]).
pub fn routes() -> Route {
    Route::new()
        .at("/reset", get(request::show).post(request::submit))
        .at(
            "/a/:client_id/reset",
            get(request::show_path).post(request::submit_path),
        )
        .at("/reset/sent", get(request::show_sent))
        .at(
            "/reset/code",
            get(request::show_code).post(confirm::submit_code),
        )
        .at(dead_end::DONE_PATH, get(dead_end::show_done))
        .at("/reset/janrain", get(confirm::janrain_landing))
        .at("/reset/confirm", get(confirm::show).post(confirm::submit))
        .at("/reset/confirm/check", post(live_check::check))
        .at("/static/:version/:theme/*path", get(assets::serve))
}

/// Page routes with the themed 404 page for anything unknown.
pub fn with_not_found(route: Route) -> impl poem::Endpoint {
    route.around(|next, req| async move {
        // Only the head is kept per request; the page's Env is built for a 404 alone.
        let head = view::RequestHead::of(&req);
        let state = req.data::<AppState>().cloned();
        match next.call(req).await {
            Err(err) if err.is::<poem::error::NotFoundError>() => match state {
                Some(state) => Ok(not_found(&state, &Env::without_form(head))),
                None => Err(err),
            },
            other => other.map(poem::IntoResponse::into_response),
        }
    })
}

/// The neutral 404 page (unknown app or path): default theme, no app name.
pub fn not_found(state: &AppState, env: &Env) -> Response {
    let locale = env.neutral_locale(state);
    view::render(
        state,
        env,
        PageSpec::new(Page::NotFound, StatusCode::NOT_FOUND, None, locale),
    )
}

/// The generic error page with `status`, in the tenant's theme when known.
pub fn error_page(
    state: &AppState,
    env: &Env,
    tenant: Option<&TenantRuntime>,
    status: StatusCode,
) -> Response {
    let config = tenant.map(|t| &t.config);
    let locale = match config {
        Some(c) => env.locale_for(c, None),
        None => env.neutral_locale(state),
    };
    view::render(
        state,
        env,
        PageSpec::new(Page::Error, status, config, locale),
    )
}

/// The 403 page for a refused form POST.
pub fn forbidden(state: &AppState, env: &Env, reason: csrf::CsrfRefusal) -> Response {
    tracing::warn!(target: passgate_engine::SECURITY_TARGET, reason = reason.as_str(), request_id = %env.request_id, "form POST refused (CSRF)");
    error_page(state, env, None, StatusCode::FORBIDDEN)
}

/// The tenant serving `client_id`, `Ok(None)` when unknown or malformed.
pub async fn tenant(state: &AppState, client_id: &str) -> Result<Option<Arc<TenantRuntime>>, ()> {
    let Ok(client) = ClientId::parse(client_id) else {
        return Ok(None);
    };
    state.tenants.by_client(&client).await.map_err(|err| {
        tracing::error!(error = %err, "tenant lookup failed");
    })
}

/// The client id named by the request's `Host` (custom domain), if any.
pub fn client_for_host(state: &AppState, req: &Request) -> Option<String> {
    let host = req.headers().get(poem::http::header::HOST)?.to_str().ok()?;
    state
        .settings
        .custom_hosts
        .get(&host.to_ascii_lowercase())
        .cloned()
}

/// The client address, through the trusted proxies only.
pub fn client_ip(state: &AppState, req: &Request) -> IpAddr {
    let peer = req
        .remote_addr()
        .as_socket_addr()
        .map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip());
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    state.settings.trusted_proxies.client_ip(peer, &forwarded)
}

/// Why a form POST could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// Too big, not a form, or a repeated field: 400.
    Malformed,
    /// CSRF refusal of where the POST came from: 403.
    Refused(csrf::CsrfRefusal),
    /// Same-site, but the form's token no longer matches its cookie (left open too long,
    /// cookies cleared): the stale-form page with a way back.
    Stale(Form),
}

/// Reads a form POST: size limit, strict parsing, then both CSRF layers.
pub async fn read_form(state: &AppState, req: &Request, body: Body) -> Result<Form, ReadError> {
    let bytes = body
        .into_bytes_limit(state.settings.max_body_bytes)
        .await
        .map_err(|_| ReadError::Malformed)?;
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok());
    // Provenance first: a cross-site POST is refused however it is shaped.
    csrf::check_provenance(&state.settings, req).map_err(ReadError::Refused)?;
    let form = Form::parse(content_type, &bytes).map_err(|_| ReadError::Malformed)?;
    match csrf::verify_token(&state.csrf_key, req, form.get("csrf_token")) {
        Ok(()) => Ok(form),
        Err(reason @ csrf::CsrfRefusal::BadToken) => {
            tracing::warn!(target: passgate_engine::SECURITY_TARGET, reason = reason.as_str(), "form POST refused (CSRF)");
            Err(ReadError::Stale(form))
        }
        Err(reason) => Err(ReadError::Refused(reason)),
    }
}

/// The answer to a form that could not be read.
pub async fn read_error(state: &AppState, env: &Env, req: &Request, err: ReadError) -> Response {
    match err {
        ReadError::Malformed => error_page(state, env, None, StatusCode::BAD_REQUEST),
        ReadError::Refused(reason) => forbidden(state, env, reason),
        ReadError::Stale(form) => dead_end::stale_form(state, env, req, &form).await,
    }
}

/// One localized field error.
pub fn field_error(code: &str, message: String) -> FieldError {
    FieldError {
        code: code.to_owned(),
        message,
    }
}

/// A 303 to `location` with extra `Set-Cookie` values.
pub fn see_other(location: &str, cookies: Vec<String>) -> Response {
    let mut resp = Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(poem::http::header::LOCATION, location);
    for cookie in cookies {
        resp = resp.header(poem::http::header::SET_COOKIE, cookie);
    }
    resp.finish()
}
