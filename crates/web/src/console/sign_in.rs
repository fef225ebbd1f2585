//! Signing in and out. The sign-in form takes a personal admin key (`pgk_…`) once; it is
//! checked exactly as the admin API checks a bearer key, audited (`console.sign_in`, or
//! `admin.access_denied` with the reason), and exchanged for a session cookie. The form
//! itself carries the hosted pages' CSRF protection (provenance + signed double submit),
//! so no other site can sign a browser in with a key of its choosing.

use poem::http::StatusCode;
use poem::web::Data;
use poem::{Body, IntoResponse, Request, Response, handler};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::html::{self, Screen, escape};
use super::session::{self, CSRF_FIELD};
use crate::admin::AdminState;
use crate::admin::auth::authenticate;
use crate::pages::{read_form, see_other};
use crate::problem::{Code, Problem};
use crate::security::csrf;
use crate::state::AppState;

/// The audit action of a console sign-in.
pub const ACTION_SIGN_IN: &str = "console.sign_in";
/// The audit action of a console sign-out.
pub const ACTION_SIGN_OUT: &str = "console.sign_out";

/// The sign-in page, with `error` shown above the form.
pub(crate) fn page(
    app: &AppState,
    state: &AdminState,
    req: &Request,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let Some(issued) = csrf::issue(&app.csrf_key, req) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let error = error.map_or_else(String::new, |e| {
        format!(
            "<div class=\"alert\" role=\"alert\" id=\"sign-in-error\">{}</div>",
            escape(e)
        )
    });
    let described = if error.is_empty() {
        "key-help"
    } else {
        "key-help sign-in-error"
    };
    let oidc = state
        .settings()
        .console_oidc
        .as_ref()
        .map_or_else(String::new, |o| {
            format!(
                "<p><a class=\"button primary\" id=\"oidc-sign-in\" href=\"{base}/oidc/start\">\
             Sign in with {name}</a></p><p class=\"hint\">Or with a personal admin key:</p>",
                base = super::BASE,
                name = escape(&o.display_name),
            )
        });
    let how = if oidc.is_empty() {
        "Sign in with the personal admin key you were given."
    } else {
        "Sign in with your company account, or with the personal admin key you were given."
    };
    let body = format!(
        "<p>Product owners edit, preview and publish their app's reset pages here; platform \
         admins onboard apps. {how}</p>{error}{oidc}<form method=\"post\" action=\"{base}/sign-in\" class=\"card narrow\">\
         <input type=\"hidden\" name=\"{CSRF_FIELD}\" value=\"{token}\">\
         <label for=\"key\">Admin key</label>\
         <input id=\"key\" name=\"key\" type=\"password\" autocomplete=\"off\" required \
         spellcheck=\"false\" aria-describedby=\"{described}\">\
         <p class=\"hint\" id=\"key-help\">Starts with <code>pgk_</code>. It is checked once; \
         this browser then keeps only a session that ends after 30 idle minutes.</p>\
         <button type=\"submit\" class=\"primary\">Sign in</button></form>",
        base = super::BASE,
        token = escape(&issued.token),
    );
    let mut resp = html::render(
        req,
        status,
        None,
        Screen {
            title: "Sign in",
            name: "sign-in",
            data: Vec::new(),
            body,
        },
    );
    if let Some(cookie) = issued.set_cookie
        && let Ok(value) = poem::http::HeaderValue::from_str(&cookie)
    {
        resp.headers_mut()
            .append(poem::http::header::SET_COOKIE, value);
    }
    resp
}

async fn audit_refusal(state: &AdminState, reason: &str) {
    tracing::info!(target: passgate_engine::SECURITY_TARGET, reason, "console sign-in refused");
    state
        .audit_denied(
            "anonymous".into(),
            None,
            format!("denied:{reason}"),
            json!({ "via": "console", "status": 401 }),
        )
        .await;
}

/// Opens a session for `principal` and audits the sign-in with `details`; a 503 when the
/// session cannot be stored.
pub(crate) async fn open_audited(
    state: &AdminState,
    principal: &crate::admin::auth::Principal,
    details: serde_json::Value,
) -> Result<session::Opened, Response> {
    let opened = session::open(state, principal).await.map_err(|err| {
        tracing::error!(target: "passgate::console", error = %err, "session not opened");
        StatusCode::SERVICE_UNAVAILABLE.into_response()
    })?;
    state.audit(principal, None, ACTION_SIGN_IN, details).await;
    Ok(opened)
}

/// `POST /console/sign-in`: the key → a session cookie, then 303 to the console.
#[handler]
pub async fn sign_in(
    req: &Request,
    body: Body,
    Data(app): Data<&AppState>,
    Data(state): Data<&AdminState>,
) -> Response {
    let form = match read_form(app, req, body).await {
        Ok(form) => form,
        Err(_) => {
            return page(
                app,
                state,
                req,
                StatusCode::FORBIDDEN,
                Some("The form expired or came from elsewhere. Sign in again."),
            );
        }
    };
    let key = form
        .secret("key")
        .unwrap_or_else(|| SecretString::from(String::new()));
    let principal = match authenticate(
        state,
        &SecretString::from(key.expose_secret().trim().to_owned()),
    )
    .await
    {
        Ok(principal) => principal,
        Err(reason) => {
            audit_refusal(state, reason).await;
            return page(
                app,
                state,
                req,
                StatusCode::UNAUTHORIZED,
                Some("That key is not valid: it may be mistyped or revoked."),
            );
        }
    };
    let opened = match open_audited(state, &principal, json!({ "via": "admin_key" })).await {
        Ok(opened) => opened,
        Err(unavailable) => return unavailable,
    };
    see_other(
        &format!("{}/", super::BASE),
        vec![opened.set_cookie.expose_secret().to_owned()],
    )
}

/// `POST /console/sign-out`: ends the session (the form's CSRF field must be the session's).
#[handler]
pub async fn sign_out(
    req: &Request,
    body: Body,
    Data(app): Data<&AppState>,
    Data(state): Data<&AdminState>,
) -> Response {
    let signed = match session::current(state, req).await {
        Ok(signed) => signed,
        Err(_) => {
            let mut problem = Problem::new(Code::Unauthorized);
            problem.detail = Some("no console session".into());
            return problem.into_response();
        }
    };
    let bytes = body
        .into_bytes_limit(app.settings.max_body_bytes)
        .await
        .unwrap_or_default();
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok());
    let form = crate::form::Form::parse(content_type, &bytes).ok();
    let presented = form.as_ref().and_then(|f| f.get(CSRF_FIELD));
    if csrf::check_provenance(&app.settings, req).is_err()
        || !session::csrf_matches(&signed.session, presented)
    {
        session::audit_csrf_refusal(state, &signed.principal, req.uri().path()).await;
        return session::csrf_problem().into_response();
    }
    if let Err(err) = session::end(state, req).await {
        tracing::error!(target: "passgate::console", error = %err, "session not ended");
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    state
        .audit(&signed.principal, None, ACTION_SIGN_OUT, json!({}))
        .await;
    see_other(&format!("{}/", super::BASE), vec![session::clear_cookie()])
}
