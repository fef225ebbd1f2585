//! The request form (`/reset?client_id=…` or `/a/{client_id}/reset`) and its POST, which
//! answers the same 303 whatever the account: to "check your inbox" (`/reset/sent`) or, in
//! code mode, to the code form (`/reset/code`, the flow id in a cookie). Post/Redirect/Get,
//! so reloading that page neither posts again nor sends a second mail (which would end the
//! first link). Only a limit that says nothing about the account gets its own answer.

use passgate_engine::{RequestError, RequestInput};
use passgate_tenant::Delivery;
use passgate_theme::Page;
use poem::{
    Body, Request, Response, handler,
    http::StatusCode,
    web::{Data, Path},
};

use super::{
    client_for_host, client_ip,
    dead_end::{self, Named},
    error_page,
    held::{flow_cookie, flow_from_request},
    not_found, read_error, read_form, see_other, tenant,
    view::{self, Env, PageSpec},
};
use crate::state::AppState;

/// `GET /reset?client_id=…&locale=…&redirect_uri=…`
#[handler]
pub async fn show(req: &Request, Data(state): Data<&AppState>) -> Response {
    show_form(state, req, None).await
}

/// `GET /a/{client_id}/reset`
#[handler]
pub async fn show_path(
    req: &Request,
    Path(client_id): Path<String>,
    Data(state): Data<&AppState>,
) -> Response {
    show_form(state, req, Some(client_id)).await
}

/// `POST /reset`
#[handler]
pub async fn submit(req: &Request, body: Body, Data(state): Data<&AppState>) -> Response {
    submit_form(state, req, body, None).await
}

/// `POST /a/{client_id}/reset`
#[handler]
pub async fn submit_path(
    req: &Request,
    Path(client_id): Path<String>,
    body: Body,
    Data(state): Data<&AppState>,
) -> Response {
    submit_form(state, req, body, Some(client_id)).await
}

async fn show_form(state: &AppState, req: &Request, path_client: Option<String>) -> Response {
    let env = Env::from_request(state, req);
    let Some(query) = env.query() else {
        return error_page(state, &env, None, StatusCode::BAD_REQUEST);
    };
    let client_id = path_client
        .or_else(|| query.get("client_id").map(str::to_owned))
        .or_else(|| client_for_host(state, req));
    let Some(client_id) = client_id else {
        return not_found(state, &env);
    };
    let active = match tenant(state, &client_id).await {
        Ok(Some(active)) => active,
        Ok(None) => return not_found(state, &env),
        Err(()) => return error_page(state, &env, None, StatusCode::SERVICE_UNAVAILABLE),
    };
    let config = &active.config;
    let redirect_uri = query.get("redirect_uri");
    let locale = env.locale_for(config, None);
    if redirect_uri.is_some_and(|requested| config.reset.redirect_uri(requested).is_none()) {
        // Exact match only (security.md item 43): refused, and never echoed as a link.
        let app = Named {
            active: active.clone(),
            client_id,
            locale: Some(locale),
        };
        return dead_end::bad_redirect(state, &env, &app);
    }
    let mut spec = PageSpec::new(Page::Request, StatusCode::OK, Some(config), locale.clone());
    spec.form_action = req.uri().path().to_owned();
    spec.hidden = hidden(&client_id, &locale, redirect_uri);
    spec.cache_as = Some(active.sha256.clone());
    view::render(state, &env, spec)
}

fn hidden(client_id: &str, locale: &str, redirect_uri: Option<&str>) -> Vec<(String, String)> {
    let mut fields = vec![
        ("client_id".to_owned(), client_id.to_owned()),
        ("locale".to_owned(), locale.to_owned()),
    ];
    if let Some(uri) = redirect_uri {
        fields.push(("redirect_uri".to_owned(), uri.to_owned()));
    }
    fields
}

async fn submit_form(
    state: &AppState,
    req: &Request,
    body: Body,
    path_client: Option<String>,
) -> Response {
    let env = Env::from_request(state, req);
    let form = match read_form(state, req, body).await {
        Ok(form) => form,
        Err(err) => return read_error(state, &env, req, err).await,
    };
    let client_id = path_client
        .or_else(|| form.get("client_id").map(str::to_owned))
        .or_else(|| client_for_host(state, req));
    let Some(client_id) = client_id else {
        return not_found(state, &env);
    };
    let active = match tenant(state, &client_id).await {
        Ok(Some(active)) => active,
        Ok(None) => return not_found(state, &env),
        Err(()) => return error_page(state, &env, None, StatusCode::SERVICE_UNAVAILABLE),
    };
    let config = &active.config;
    let locale = env.locale_for(config, form.get("locale"));
    let input = RequestInput {
        client_id: client_id.clone(),
        email_raw: form.get("email").unwrap_or_default().to_owned(),
        locale: Some(locale.clone()),
        redirect_uri: form.get("redirect_uri").map(str::to_owned),
        client_ip: client_ip(state, req),
        request_id: env.request_id.clone(),
    };
    let accepted = match state.backend.request_reset(input).await {
        Ok(accepted) => accepted,
        Err(RequestError::UnknownClient) => return not_found(state, &env),
        Err(RequestError::RedirectNotAllowed) => {
            let app = Named {
                active: active.clone(),
                client_id,
                locale: Some(locale),
            };
            return dead_end::bad_redirect(state, &env, &app);
        }
        Err(RequestError::Unavailable(err)) => {
            tracing::error!(error = %err, request_id = %env.request_id, "reset request not recorded");
            return error_page(state, &env, Some(&active), StatusCode::SERVICE_UNAVAILABLE);
        }
    };
    if let Some(until) = accepted.retry_at {
        let app = Named {
            active: active.clone(),
            client_id,
            locale: Some(locale),
        };
        return dead_end::rate_limited(state, &env, &app, until);
    }
    let next = next_page(&client_id, &locale, config.reset.delivery);
    if config.reset.delivery == Delivery::Code {
        let cookie = flow_cookie(&accepted.flow_id, state.settings.reset_cookie_max_age_secs);
        return see_other(&next, vec![cookie]);
    }
    see_other(&next, Vec::new())
}

/// Where the request form's POST sends the browser: the "check your inbox" page, or the
/// code form in code mode.
fn next_page(client_id: &str, locale: &str, delivery: Delivery) -> String {
    let path = match delivery {
        Delivery::Code => "/reset/code",
        Delivery::Link => "/reset/sent",
    };
    app_url(path, client_id, locale)
}

/// The app a `GET` after the request form names (`?client_id=…&locale=…`, or a custom host),
/// with the page locale.
async fn after_request(
    state: &AppState,
    req: &Request,
    env: &Env,
) -> Result<(Named, String), Response> {
    let Some(query) = env.query() else {
        return Err(error_page(state, env, None, StatusCode::BAD_REQUEST));
    };
    let Some(app) = dead_end::named(state, req, query.get("client_id"), query.get("locale")).await
    else {
        return Err(not_found(state, env));
    };
    let locale = env.locale_for(&app.active.config, app.locale.as_deref());
    Ok((app, locale))
}

/// `GET /reset/sent?client_id=…&locale=…`: "check your inbox" (the same for every account).
#[handler]
pub async fn show_sent(req: &Request, Data(state): Data<&AppState>) -> Response {
    let env = Env::from_request(state, req);
    let (app, locale) = match after_request(state, req, &env).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let config = &app.active.config;
    let mut spec = PageSpec::new(Page::Sent, StatusCode::OK, Some(config), locale.clone());
    spec.restart_url = Some(restart_url(&app.client_id, &locale));
    view::render(state, &env, spec)
}

/// `GET /reset/code?client_id=…&locale=…`: the code form for the flow in the flow cookie;
/// without one (cookie gone), back to the request form.
#[handler]
pub async fn show_code(req: &Request, Data(state): Data<&AppState>) -> Response {
    let env = Env::from_request(state, req);
    let (app, locale) = match after_request(state, req, &env).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let restart = restart_url(&app.client_id, &locale);
    let Some(flow_id) = flow_from_request(req) else {
        return see_other(&restart, Vec::new());
    };
    let config = &app.active.config;
    let mut spec = PageSpec::new(Page::Code, StatusCode::OK, Some(config), locale.clone());
    spec.form_action = "/reset/code".to_owned();
    spec.hidden = hidden(&app.client_id, &locale, None);
    spec.hidden.push(("flow_id".to_owned(), flow_id));
    spec.restart_url = Some(restart);
    view::render(state, &env, spec)
}

/// The request form of `client_id` in `locale`.
pub fn restart_url(client_id: &str, locale: &str) -> String {
    app_url("/reset", client_id, locale)
}

/// `path?client_id=…&locale=…`.
fn app_url(path: &str, client_id: &str, locale: &str) -> String {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", client_id)
        .append_pair("locale", locale)
        .finish();
    format!("{path}?{query}")
}
