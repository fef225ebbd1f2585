//! The second half of a reset: taking the credential out of the address bar, the
//! new-password page with live rule feedback, and its POST.

use std::sync::Arc;

use passgate_engine::error::CodeCheckError;
use passgate_engine::{CompleteError, CompleteInput, Completed, TenantRuntime};
use passgate_tenant::TenantId;
use passgate_theme::{FieldError, Page};
use poem::{Body, Request, Response, handler, http::StatusCode, web::Data};

use super::{
    client_for_host, client_ip,
    dead_end::{self, invalid_link},
    error_page, field_error,
    held::{Done, Held, MAX_CREDENTIAL_LEN},
    read_error, read_form,
    request::restart_url,
    see_other, tenant,
    view::{self, Env, PageSpec},
};
use crate::{form::Form, policy_view, problem::Code, state::AppState};

/// Where the tokenless new-password page lives.
pub const CONFIRM_PATH: &str = "/reset/confirm";

/// `GET /reset/confirm[?token=…]`: with a token that works right now (and belongs to the
/// tenant a custom host or `client_id` names, if any), moves it into the reset cookie and
/// redirects to the tokenless URL; any other token gets the invalid-link page and no
/// cookie, and leaves a newer reset this browser holds alone (an older, superseded link
/// opened later must not end it). Without a token, shows the new-password page for the
/// held credential, the success page of a reset just finished here, or the invalid-link
/// page.
#[handler]
pub async fn show(req: &Request, Data(state): Data<&AppState>) -> Response {
    let env = Env::from_request(state, req);
    let Some(query) = env.query() else {
        return invalid_link(state, &env, None, None, Vec::new());
    };
    if let Some(token) = query.get("token") {
        let usable = !token.is_empty() && token.len() <= MAX_CREDENTIAL_LEN;
        // Only a link that works now goes into the cookie: no planting arbitrary values.
        let view = match usable {
            true => state.backend.view_token(token).await.ok(),
            false => None,
        };
        let owned = match &view {
            Some(view) => same_tenant(state, req, query.get("client_id"), &view.tenant_id).await,
            None => Ok(false),
        };
        let view = match (owned, view) {
            (Ok(true), Some(view)) => view,
            (Err(()), _) => return error_page(state, &env, None, StatusCode::SERVICE_UNAVAILABLE),
            _ => return unusable_link(state, req, &env, query).await,
        };
        let held = Held::Link {
            t: token.to_owned(),
            c: Some(view.client_id.as_str().to_owned()),
            l: Some(view.locale),
        };
        let cookie = held.set_cookie(state.settings.reset_cookie_max_age_secs);
        return see_other(CONFIRM_PATH, vec![cookie]);
    }
    let Some(held) = Held::from_request(req) else {
        if let Some(page) = dead_end::success_again(state, &env, req).await {
            return page;
        }
        let app = dead_end::named(state, req, query.get("client_id"), query.get("locale")).await;
        return invalid_link(state, &env, app.as_ref(), None, Vec::new());
    };
    new_password_page(state, req, &env, &held, StatusCode::OK, Vec::new()).await
}

/// The invalid-link page for a token that cannot be used, branded by the app the link
/// names; when this browser still holds a working (newer) reset, a button continues it.
async fn unusable_link(state: &AppState, req: &Request, env: &Env, query: &Form) -> Response {
    let app = dead_end::named(state, req, query.get("client_id"), query.get("locale")).await;
    let newer = match Held::from_request(req) {
        Some(held) => matches!(resolve(state, req, &held).await, Ok(Some(_))),
        None => false,
    };
    let continue_url = newer.then(|| CONFIRM_PATH.to_owned());
    invalid_link(state, env, app.as_ref(), continue_url, Vec::new())
}

/// The invalid-link page for a held credential that no longer works: the cookie goes.
async fn dead_held(state: &AppState, req: &Request, env: &Env, held: &Held) -> Response {
    let app = dead_end::named_by_held(state, req, held).await;
    invalid_link(state, env, app.as_ref(), None, vec![Held::clear_cookie()])
}

/// Whether a credential of tenant `owner` may be used through this request: a custom host
/// and a `client_id` parameter, when present, must name clients of that same tenant, so a
/// token (or code) is never shown or redeemed under another tenant's name (item 4).
async fn same_tenant(
    state: &AppState,
    req: &Request,
    named_client: Option<&str>,
    owner: &TenantId,
) -> Result<bool, ()> {
    let through = [client_for_host(state, req), named_client.map(str::to_owned)];
    for client in through.into_iter().flatten() {
        match tenant(state, &client).await? {
            Some(active) if &active.config.id == owner => {}
            _ => return Ok(false),
        }
    }
    Ok(true)
}

/// `POST /reset/code` (code mode): checks the code (a wrong one shows the code form again and
/// counts as an attempt), then keeps flow and code in the reset cookie and moves on to the
/// new-password page. The code is verified again when the password is submitted.
#[handler]
pub async fn submit_code(req: &Request, body: Body, Data(state): Data<&AppState>) -> Response {
    let env = Env::from_request(state, req);
    let form = match read_form(state, req, body).await {
        Ok(form) => form,
        Err(err) => return read_error(state, &env, req, err).await,
    };
    let field = |name: &str| form.get(name).unwrap_or_default().to_owned();
    let (client_id, flow_id) = (field("client_id"), field("flow_id"));
    let code: String = field("code").chars().filter(char::is_ascii_digit).collect();
    let active = match tenant(state, &client_id).await {
        Ok(Some(active)) => active,
        Ok(None) => return invalid_link(state, &env, None, None, Vec::new()),
        Err(()) => return error_page(state, &env, None, StatusCode::SERVICE_UNAVAILABLE),
    };
    let locale = env.locale_for(&active.config, form.get("locale"));
    let app = dead_end::Named {
        active: active.clone(),
        client_id: client_id.clone(),
        locale: Some(locale.clone()),
    };
    let well_formed = code.len() == 8 && !flow_id.is_empty() && flow_id.len() <= MAX_CREDENTIAL_LEN;
    let problem = if well_formed {
        let ip = client_ip(state, req);
        match state
            .backend
            .check_code(&flow_id, &code, ip, &env.request_id)
            .await
        {
            Ok(()) => None,
            Err(CodeCheckError::Wrong) => Some(("code.wrong", StatusCode::UNPROCESSABLE_ENTITY)),
            Err(CodeCheckError::Throttled) => Some(("error.throttled", Code::Throttled.status())),
            Err(CodeCheckError::InvalidLink(_)) => {
                return invalid_link(state, &env, Some(&app), None, vec![Held::clear_cookie()]);
            }
            Err(CodeCheckError::TryAgainLater) => {
                return error_page(state, &env, None, StatusCode::SERVICE_UNAVAILABLE);
            }
        }
    } else {
        Some(("code.hint", StatusCode::UNPROCESSABLE_ENTITY))
    };
    if let Some((message_key, status)) = problem {
        let mut spec = PageSpec::new(Page::Code, status, Some(&active.config), locale.clone());
        spec.form_action = "/reset/code".to_owned();
        spec.hidden = vec![
            ("client_id".to_owned(), client_id.clone()),
            ("locale".to_owned(), locale.clone()),
            ("flow_id".to_owned(), flow_id),
        ];
        let messages = view::messages(state, Some(&active.config), &locale);
        spec.errors = vec![field_error(
            "code.invalid",
            view::error_text(messages.as_ref(), message_key),
        )];
        spec.restart_url = Some(restart_url(&client_id, &locale));
        return view::render(state, &env, spec);
    }
    let held = Held::Code {
        c: client_id,
        f: flow_id,
        d: code,
        l: locale,
    };
    see_other(
        CONFIRM_PATH,
        vec![held.set_cookie(state.settings.reset_cookie_max_age_secs)],
    )
}

/// `GET /reset/janrain?client_id=…&code=…`: Janrain's mailed link lands here.
#[handler]
pub async fn janrain_landing(req: &Request, Data(state): Data<&AppState>) -> Response {
    let env = Env::from_request(state, req);
    let Some(query) = env.query() else {
        return invalid_link(state, &env, None, None, Vec::new());
    };
    let app = dead_end::named(state, req, query.get("client_id"), query.get("locale")).await;
    let dead = |app: Option<&dead_end::Named>| invalid_link(state, &env, app, None, Vec::new());
    let (Some(client_id), Some(code)) = (query.get("client_id"), query.get("code")) else {
        return dead(app.as_ref());
    };
    if code.is_empty() || code.len() > MAX_CREDENTIAL_LEN {
        return dead(app.as_ref());
    }
    let active = match tenant(state, client_id).await {
        Ok(Some(active)) => active,
        Ok(None) => return dead(None),
        Err(()) => return error_page(state, &env, None, StatusCode::SERVICE_UNAVAILABLE),
    };
    match same_tenant(state, req, None, &active.config.id).await {
        Ok(true) => {}
        Ok(false) => return dead(app.as_ref()),
        Err(()) => return error_page(state, &env, None, StatusCode::SERVICE_UNAVAILABLE),
    }
    // A spent code, or one another tenant redeemed, never goes into the cookie.
    if state
        .backend
        .view_janrain_code(client_id, code)
        .await
        .is_err()
    {
        return dead(app.as_ref());
    }
    let locale = env.locale_for(&active.config, None);
    let held = Held::Janrain {
        c: client_id.to_owned(),
        d: code.to_owned(),
        l: locale,
    };
    see_other(
        CONFIRM_PATH,
        vec![held.set_cookie(state.settings.reset_cookie_max_age_secs)],
    )
}

/// What the new-password page knows about a held credential.
struct Resolved {
    /// The tenant it belongs to.
    active: Arc<TenantRuntime>,
    /// The locale of the reset.
    locale: String,
    /// The masked account a link is bound to (from the token row, never the request).
    account: Option<String>,
}

/// The tenant, locale and masked account behind a held credential, checked against the
/// tenant this request came through; `None` means "invalid link".
async fn resolve(state: &AppState, req: &Request, held: &Held) -> Result<Option<Resolved>, ()> {
    let (client_id, locale, account) = match held {
        Held::Link { t, .. } => match state.backend.view_token(t).await {
            Ok(view) => (
                view.client_id.as_str().to_owned(),
                view.locale,
                Some(view.masked_account),
            ),
            Err(_) => return Ok(None),
        },
        Held::Janrain { c, d, l } => {
            if state.backend.view_janrain_code(c, d).await.is_err() {
                return Ok(None);
            }
            (c.clone(), l.clone(), None)
        }
        Held::Code { c, l, .. } => (c.clone(), l.clone(), None),
    };
    let Some(active) = tenant(state, &client_id).await? else {
        return Ok(None);
    };
    if !same_tenant(state, req, None, &active.config.id).await? {
        return Ok(None);
    }
    Ok(Some(Resolved {
        active,
        locale,
        account,
    }))
}

/// The messages of the held credential's tenant in its page locale, for the live check;
/// `None` when the credential is not usable through this request's tenant.
pub(super) async fn held_messages(
    state: &AppState,
    req: &Request,
    held: &Held,
) -> Result<Option<passgate_theme::Messages>, ()> {
    let Some(Resolved { active, locale, .. }) = resolve(state, req, held).await? else {
        return Ok(None);
    };
    let env = Env::from_request(state, req);
    let locale = env.locale_for(&active.config, Some(&locale));
    Ok(view::messages(state, Some(&active.config), &locale))
}

async fn new_password_page(
    state: &AppState,
    req: &Request,
    env: &Env,
    held: &Held,
    status: StatusCode,
    errors: Vec<FieldError>,
) -> Response {
    let Resolved {
        active,
        locale,
        account,
    } = match resolve(state, req, held).await {
        Ok(Some(found)) => found,
        Ok(None) => return dead_held(state, req, env, held).await,
        Err(()) => return error_page(state, env, None, StatusCode::SERVICE_UNAVAILABLE),
    };
    let config = &active.config;
    let locale = env.locale_for(config, Some(&locale));
    let Some(messages) = view::messages(state, Some(config), &locale) else {
        return error_page(state, env, Some(&active), StatusCode::INTERNAL_SERVER_ERROR);
    };
    let own = config
        .messages
        .iter()
        .find(|(l, _)| l.as_str() == locale)
        .map(|(_, m)| m);
    let mut spec = PageSpec::new(Page::NewPassword, status, Some(config), locale);
    spec.form_action = CONFIRM_PATH.to_owned();
    spec.email = account;
    let payload = policy_view::payload(config.policy_spec(), &messages, config.id.as_str(), own);
    spec.policy = serde_json::to_value(payload).ok();
    spec.errors = errors;
    view::render(state, env, spec)
}

/// `POST /reset/confirm`: sets the password, then 303 to the app or the success page.
#[handler]
pub async fn submit(req: &Request, body: Body, Data(state): Data<&AppState>) -> Response {
    let env = Env::from_request(state, req);
    let form = match read_form(state, req, body).await {
        Ok(form) => form,
        Err(err) => return read_error(state, &env, req, err).await,
    };
    let Some(held) = Held::from_request(req) else {
        // Reloading the POST after "Password changed" finds that page again.
        if let Some(page) = dead_end::success_again(state, &env, req).await {
            return page;
        }
        return invalid_link(state, &env, None, None, Vec::new());
    };
    // The credential must belong to the tenant this request came through (custom host).
    match resolve(state, req, &held).await {
        Ok(Some(_)) => {}
        Ok(None) => return dead_held(state, req, &env, &held).await,
        Err(()) => return error_page(state, &env, None, StatusCode::SERVICE_UNAVAILABLE),
    }
    let input = CompleteInput {
        credential: held.credential(),
        password: form.secret("password").unwrap_or_default(),
        confirmation: form.secret("password_confirm").unwrap_or_default(),
        client_ip: client_ip(state, req),
        request_id: env.request_id.clone(),
    };
    match state.backend.complete_reset(input).await {
        Ok(done) => completed(state, &env, &held, done).await,
        Err(err) => failed(state, req, &env, &held, err).await,
    }
}

async fn completed(state: &AppState, env: &Env, held: &Held, done: Completed) -> Response {
    let clear = vec![Held::clear_cookie()];
    let client_id = done.client_id.as_deref().or(held.client_id());
    let active = match client_id {
        Some(client_id) => tenant(state, client_id).await.ok().flatten(),
        None => None,
    };
    match (active, client_id) {
        (Some(active), Some(client_id)) => {
            let finished = Done {
                c: client_id.to_owned(),
                l: done.locale.clone(),
                r: done.redirect_uri.clone(),
            };
            dead_end::finished(&finished, &active, clear)
        }
        _ => {
            let locale = env.neutral_locale(state);
            let mut spec = PageSpec::new(Page::Success, StatusCode::OK, None, locale);
            spec.cookies = clear;
            view::render(state, env, spec)
        }
    }
}

/// A message key with its placeholder values.
type Problem = (String, Vec<(String, String)>);

async fn failed(
    state: &AppState,
    req: &Request,
    env: &Env,
    held: &Held,
    err: CompleteError,
) -> Response {
    let messages_for = |key: &str, params: &[(&str, &str)]| {
        (
            key.to_owned(),
            params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<Vec<_>>(),
        )
    };
    // The status is the problem type's, as on `/v1`.
    let status = Code::from(&err).status();
    let problems: Vec<Problem> = match &err {
        CompleteError::InvalidLink(_) => {
            return dead_held(state, req, env, held).await;
        }
        CompleteError::Unconfirmed { likely_applied } => {
            tracing::warn!(likely_applied, request_id = %env.request_id, "password change unconfirmed");
            return super::error_page(state, env, None, status);
        }
        CompleteError::Mismatch => vec![messages_for("policy.mismatch", &[])],
        CompleteError::PolicyViolations(_) => Vec::new(),
        CompleteError::PasswordReused { depth } => {
            let depth = depth.to_string();
            vec![messages_for("policy.history", &[("depth", &depth)])]
        }
        CompleteError::ProviderRejected { message_key } => vec![messages_for(message_key, &[])],
        CompleteError::TryAgainLater => vec![messages_for("error.body", &[])],
        CompleteError::Throttled => vec![messages_for("error.throttled", &[])],
    };
    // Localize in the page's locale: resolve tenant and locale as the page will.
    let Resolved { active, locale, .. } = match resolve(state, req, held).await {
        Ok(Some(found)) => found,
        Ok(None) => return dead_held(state, req, env, held).await,
        Err(()) => return error_page(state, env, None, StatusCode::SERVICE_UNAVAILABLE),
    };
    let locale = env.locale_for(&active.config, Some(&locale));
    let messages = view::messages(state, Some(&active.config), &locale);
    let mut errors: Vec<FieldError> = Vec::new();
    if let (CompleteError::PolicyViolations(violations), Some(messages)) = (&err, &messages) {
        errors.extend(violations.iter().map(|v| {
            field_error(
                &format!("policy.{}", v.code()),
                policy_view::violation_text(messages, v),
            )
        }));
    }
    for (key, params) in problems {
        let params: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let text = messages
            .as_ref()
            .and_then(|m| m.format(&key, &params).ok())
            .unwrap_or_else(|| view::error_text(messages.as_ref(), "error.body"));
        errors.push(field_error(&key, text));
    }
    new_password_page(state, req, env, held, status, errors).await
}
