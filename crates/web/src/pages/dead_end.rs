//! The pages where a reset cannot go on, each with a way out: the invalid-link page (with
//! "Request a new link"), the rate-limited page (with when to try again), the bad-redirect
//! and stale-form pages, and the success page that Back and Reload find again.
//!
//! A dead end wears the branding of the app the *request* names (a custom host, the
//! `client_id` and `locale` the mailed link carries, or the reset cookie), never of what a
//! token lookup found: every unusable token with the same link parameters gets the same
//! page (security.md item 11). Without a named app it is the neutral default-theme page.

use std::sync::Arc;

use passgate_engine::TenantRuntime;
use passgate_store::Timestamp;
use passgate_theme::Page;
use poem::{Request, Response, handler, http::StatusCode, web::Data};

use super::{
    client_for_host, error_page,
    held::{Done, Held},
    request::restart_url,
    see_other, tenant,
    view::{self, Env, PageSpec},
};
use crate::{form::Form, state::AppState};

/// The app a dead end is shown for, as the request names it.
#[derive(Debug)]
pub struct Named {
    /// The app's tenant.
    pub active: Arc<TenantRuntime>,
    /// The client id the request named (its request form is the way out).
    pub client_id: String,
    /// The reset's locale, when the request carries it.
    pub locale: Option<String>,
}

impl Named {
    /// The page locale: the reset's own first, then the request's preferences.
    fn page_locale(&self, env: &Env) -> String {
        env.locale_for(&self.active.config, self.locale.as_deref())
    }

    /// This app's request form in `locale`.
    fn request_form(&self, locale: &str) -> String {
        restart_url(&self.client_id, locale)
    }

    /// `page` in this app's theme and the page locale, its way out the app's request form.
    fn spec(&self, env: &Env, page: Page, status: StatusCode) -> PageSpec<'_> {
        let locale = self.page_locale(env);
        let mut spec = PageSpec::new(page, status, Some(&self.active.config), locale.clone());
        spec.restart_url = Some(self.request_form(&locale));
        spec
    }
}

/// The app named by the request's custom host, else by `client_id`; `None` when neither
/// names an active app (or the lookup failed: the neutral page is then the safe answer).
pub async fn named(
    state: &AppState,
    req: &Request,
    client_id: Option<&str>,
    locale: Option<&str>,
) -> Option<Named> {
    let client_id = client_for_host(state, req).or_else(|| client_id.map(str::to_owned))?;
    let active = tenant(state, &client_id).await.ok().flatten()?;
    Some(Named {
        active,
        client_id,
        locale: locale.map(str::to_owned),
    })
}

/// The app a held credential names (its cookie carries client id and locale).
pub async fn named_by_held(state: &AppState, req: &Request, held: &Held) -> Option<Named> {
    named(state, req, held.client_id(), held.locale()).await
}

/// The one invalid-link page (status 410) for every unusable link or code: in `app`'s
/// theme and the reset's locale with a "Request a new link" button when the request names
/// the app, else neutral. `continue_url` offers the newer reset this browser still holds.
pub fn invalid_link(
    state: &AppState,
    env: &Env,
    app: Option<&Named>,
    continue_url: Option<String>,
    cookies: Vec<String>,
) -> Response {
    let mut spec = match app {
        Some(app) => app.spec(env, Page::InvalidLink, StatusCode::GONE),
        None => PageSpec::new(
            Page::InvalidLink,
            StatusCode::GONE,
            None,
            env.neutral_locale(state),
        ),
    };
    spec.continue_url = continue_url;
    spec.cookies = cookies;
    view::render(state, env, spec)
}

/// "Too many requests, try again after …" (429 with `Retry-After`), for a limit that says
/// nothing about the account (the engine sets `retry_at` only for those).
pub fn rate_limited(state: &AppState, env: &Env, app: &Named, until: Timestamp) -> Response {
    let mut spec = app.spec(env, Page::RateLimited, StatusCode::TOO_MANY_REQUESTS);
    spec.retry_at = Some(until.format("%H:%M UTC").to_string());
    let mut resp = view::render(state, env, spec);
    // An HTTP-date, so no clock is read here.
    let date = until.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    if let Ok(value) = poem::http::HeaderValue::from_str(&date) {
        resp.headers_mut()
            .insert(poem::http::header::RETRY_AFTER, value);
    }
    resp
}

/// The page for a `redirect_uri` the app has not allowlisted (400): says so, never links
/// to it, and offers the same reset without the return.
pub fn bad_redirect(state: &AppState, env: &Env, app: &Named) -> Response {
    view::render(
        state,
        env,
        app.spec(env, Page::BadRedirect, StatusCode::BAD_REQUEST),
    )
}

/// The page for a form whose CSRF token no longer matches (403): nothing happened; the
/// button loads the form again (the new-password page, or the app's request form).
pub async fn stale_form(state: &AppState, env: &Env, req: &Request, form: &Form) -> Response {
    let path = req.uri().path();
    let path_client = path
        .strip_prefix("/a/")
        .and_then(|rest| rest.strip_suffix("/reset"));
    let held = Held::from_request(req);
    let app = match (path_client.or(form.get("client_id")), &held) {
        (Some(client), _) => named(state, req, Some(client), form.get("locale")).await,
        (None, Some(held)) => named_by_held(state, req, held).await,
        (None, None) => None,
    };
    let Some(app) = app else {
        return error_page(state, env, None, StatusCode::FORBIDDEN);
    };
    let mut spec = app.spec(env, Page::StaleForm, StatusCode::FORBIDDEN);
    if path == super::confirm::CONFIRM_PATH && held.is_some() {
        spec.restart_url = Some(super::confirm::CONFIRM_PATH.to_owned());
    }
    view::render(state, env, spec)
}

/// Where a finished reset is shown: `GET /reset/done`.
pub const DONE_PATH: &str = "/reset/done";

/// The success page for `done` with a "Back to the app" button: the redirect URI the
/// request named, else the app's default return URI (the first of `reset.redirect_uris`).
pub fn success(state: &AppState, env: &Env, done: &Done, active: &TenantRuntime) -> Response {
    let config = &active.config;
    let back = done
        .r
        .as_deref()
        .and_then(|uri| config.reset.redirect_uri(uri))
        .or_else(|| config.reset.redirect_uris.first())
        .map(|uri| uri.as_str().to_owned());
    let locale = env.locale_for(config, Some(&done.l));
    let mut spec = PageSpec::new(Page::Success, StatusCode::OK, Some(config), locale);
    spec.continue_url = back;
    view::render(state, env, spec)
}

/// The success page of the reset this browser finished in the last minutes (the done
/// cookie), if any: what Reload, Back and a re-sent POST find after "Password changed".
pub async fn success_again(state: &AppState, env: &Env, req: &Request) -> Option<Response> {
    let done = Done::from_request(req)?;
    let active = tenant(state, &done.c).await.ok().flatten()?;
    Some(success(state, env, &done, &active))
}

/// `GET /reset/done`: the success page of the reset this browser just finished (Reload
/// finds it again); without one, the request is sent to the neutral invalid-link page.
#[handler]
pub async fn show_done(req: &Request, Data(state): Data<&AppState>) -> Response {
    let env = Env::from_request(state, req);
    match success_again(state, &env, req).await {
        Some(page) => page,
        None => invalid_link(state, &env, None, None, Vec::new()),
    }
}

/// The answer to a finished reset: 303 to the allowlisted redirect URI, else to the success
/// page, remembering it in the done cookie either way (so Back finds "Password changed").
pub fn finished(done: &Done, active: &TenantRuntime, mut cookies: Vec<String>) -> Response {
    cookies.push(done.set_cookie());
    let target = done
        .r
        .as_deref()
        .and_then(|uri| active.config.reset.redirect_uri(uri))
        .map_or(DONE_PATH, |uri| uri.as_str());
    see_other(target, cookies)
}
