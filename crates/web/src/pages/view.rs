//! Rendering one hosted page: the tenant's theme, branding and messages in the negotiated
//! locale, with the response's CSP nonce and the form's CSRF token, as an HTML response.
//!
//! Pages that must not reveal which tenant a token belongs to (the invalid-link page) and
//! pages without a tenant (unknown app) use the `default` theme and no app name.

use std::collections::BTreeMap;
use std::sync::Arc;

use passgate_tenant::TenantConfig;
use passgate_theme::{
    Branding, DEFAULT_THEME, FieldError, HiddenField, Messages, Page, PageContext,
};
use poem::{Request, Response, http::StatusCode};

use super::cache::{PageKey, SplicedPage};
use crate::form::Form;
use crate::{
    locale,
    security::{
        csrf::{self, CsrfIssue},
        headers::{CspNonce, CspSources},
    },
    state::{AppState, static_prefix},
};

/// What a page needs from the request it answers.
#[derive(Debug, Clone)]
pub struct Env {
    /// The response's CSP nonce.
    pub nonce: String,
    /// The form token (and cookie to set), for pages with a form.
    pub csrf: Option<CsrfIssue>,
    /// `Accept-Language`, for negotiation.
    pub accept_language: Option<String>,
    /// Explicit `locale` / `ui_locales` query values.
    pub explicit_locales: Vec<String>,
    /// Correlates logs, audit events and the error page's reference.
    pub request_id: String,
    /// The request's query, parsed once; `None` when it is malformed (a repeated field).
    query: Option<Arc<Form>>,
}

/// The parts of a request a page's [`Env`] is made from, cheap to keep while the request
/// itself goes on to a handler (the 404 wrapper keeps one for every request).
#[derive(Debug, Clone, Default)]
pub struct RequestHead {
    nonce: String,
    query: Option<String>,
    accept_language: Option<String>,
}

impl RequestHead {
    /// Reads the head of `req`.
    pub fn of(req: &Request) -> Self {
        Self {
            nonce: req
                .extensions()
                .get::<CspNonce>()
                .map(|n| n.0.clone())
                .unwrap_or_default(),
            query: req.uri().query().map(str::to_owned),
            accept_language: req
                .headers()
                .get("accept-language")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        }
    }
}

impl Env {
    /// Reads what pages need from `req`.
    pub fn from_request(state: &AppState, req: &Request) -> Self {
        Self::from_head(RequestHead::of(req), csrf::issue(&state.csrf_key, req))
    }

    /// What a page without a form needs, from a head read before the request moved on.
    pub fn without_form(head: RequestHead) -> Self {
        Self::from_head(head, None)
    }

    fn from_head(head: RequestHead, csrf: Option<CsrfIssue>) -> Self {
        let query = Form::from_query(head.query.as_deref()).ok().map(Arc::new);
        let explicit_locales = ["locale", "ui_locales"]
            .iter()
            .filter_map(|name| query.as_ref().and_then(|q| q.get(name)).map(str::to_owned))
            .collect();
        Self {
            nonce: head.nonce,
            csrf,
            accept_language: head.accept_language,
            explicit_locales,
            request_id: crate::security::random_b64::<12>().unwrap_or_default(),
            query,
        }
    }

    /// The request's query fields, parsed once per request; `None` when the query is
    /// malformed (a field repeated), which pages answer with their error.
    pub fn query(&self) -> Option<&Form> {
        self.query.as_deref()
    }

    /// The best locale of `tenant` for this request (`extra` first: a form's hidden locale).
    pub fn locale_for(&self, tenant: &TenantConfig, extra: Option<&str>) -> String {
        let supported: Vec<String> = tenant
            .locales
            .supported
            .iter()
            .map(|l| l.as_str().to_owned())
            .collect();
        let mut explicit: Vec<&str> = extra.into_iter().collect();
        explicit.extend(self.explicit_locales.iter().map(String::as_str));
        locale::negotiate(
            &supported,
            tenant.locales.default.as_str(),
            &explicit,
            self.accept_language.as_deref(),
        )
    }

    /// The best locale of the `default` theme (pages without a tenant).
    pub fn neutral_locale(&self, state: &AppState) -> String {
        let supported = state.themes.locales(DEFAULT_THEME);
        let explicit: Vec<&str> = self.explicit_locales.iter().map(String::as_str).collect();
        locale::negotiate(&supported, "en", &explicit, self.accept_language.as_deref())
    }
}

/// The theme's branding from the tenant's validated branding (custom CSS included).
pub fn branding(tenant: &TenantConfig) -> Branding {
    let b = &tenant.branding;
    Branding {
        primary_color: b.primary_color.as_ref().map(|c| c.as_str().to_owned()),
        background_color: b.background_color.as_ref().map(|c| c.as_str().to_owned()),
        text_color: b.text_color.as_ref().map(|c| c.as_str().to_owned()),
        logo_url: b.logo_url.as_ref().map(|u| u.as_str().to_owned()),
        font_family: b.font_family.clone(),
        custom_css: b.custom_css.clone(),
    }
}

/// The messages of `tenant` (or the default theme) in `locale`.
pub fn messages(state: &AppState, tenant: Option<&TenantConfig>, locale: &str) -> Option<Messages> {
    let (theme, overrides) = match tenant {
        Some(t) => (
            t.theme.as_str(),
            t.messages
                .iter()
                .find(|(l, _)| l.as_str() == locale)
                .map(|(_, m)| m.clone())
                .unwrap_or_default(),
        ),
        None => (DEFAULT_THEME, BTreeMap::new()),
    };
    Messages::new(&state.themes, theme, locale, overrides).ok()
}

/// A page about to be rendered.
#[derive(Debug)]
pub struct PageSpec<'a> {
    /// Which template.
    pub page: Page,
    /// HTTP status.
    pub status: StatusCode,
    /// The tenant whose theme and branding to use; `None` for the neutral default theme.
    pub tenant: Option<&'a TenantConfig>,
    /// The negotiated locale.
    pub locale: String,
    /// Where the form posts.
    pub form_action: String,
    /// Hidden inputs besides the CSRF token.
    pub hidden: Vec<(String, String)>,
    /// Problems to show.
    pub errors: Vec<FieldError>,
    /// "Start again" link.
    pub restart_url: Option<String>,
    /// "Back to the app" link (success page).
    pub continue_url: Option<String>,
    /// Prefilled email (request form).
    pub email: Option<String>,
    /// Live-validation payload (new-password page).
    pub policy: Option<serde_json::Value>,
    /// Extra `Set-Cookie` values (the reset cookie).
    pub cookies: Vec<String>,
    /// When a rate limit lifts, as shown (rate-limited page).
    pub retry_at: Option<String>,
    /// The SHA-256 of the tenant's active YAML, when the page may be rendered once and
    /// spliced per request ([`super::cache`]): set only where nothing else varies.
    pub cache_as: Option<String>,
}

impl<'a> PageSpec<'a> {
    /// A page with nothing but its template, status, tenant and locale.
    pub fn new(
        page: Page,
        status: StatusCode,
        tenant: Option<&'a TenantConfig>,
        locale: String,
    ) -> Self {
        Self {
            page,
            status,
            tenant,
            locale,
            form_action: String::new(),
            hidden: Vec::new(),
            errors: Vec::new(),
            restart_url: None,
            continue_url: None,
            email: None,
            policy: None,
            cookies: Vec::new(),
            retry_at: None,
            cache_as: None,
        }
    }
}

/// Renders `spec` into an HTML response (a bare 500 if the theme cannot render, which the
/// startup check makes a bug). A page marked [`PageSpec::cache_as`] with nothing
/// request-specific in it is rendered once and spliced afterwards ([`super::cache`]).
pub fn render(state: &AppState, env: &Env, spec: PageSpec<'_>) -> Response {
    let with_form = !spec.form_action.is_empty();
    let csrf = env.csrf.as_ref().filter(|_| with_form);
    let csrf_token = csrf.map(|c| c.token.as_str()).unwrap_or_default();
    let set_cookies: Vec<String> = csrf
        .and_then(|c| c.set_cookie.clone())
        .into_iter()
        .chain(spec.cookies.iter().cloned())
        .collect();
    let status = spec.status;
    if let Some(page) = kept_page(state, &spec) {
        let html = page.fill(&env.nonce, csrf_token);
        return respond(status, html, set_cookies, page.csp.clone());
    }
    let request_id = env.request_id.clone();
    match rendered(state, spec, &env.nonce, csrf_token, request_id) {
        Some((html, csp)) => respond(status, html, set_cookies, csp),
        None => bare_error(),
    }
}

/// The kept page for `spec`, rendering and keeping it first if it may be kept.
fn kept_page(state: &AppState, spec: &PageSpec<'_>) -> Option<Arc<SplicedPage>> {
    let config = spec.cache_as.as_ref()?;
    let request_specific = !spec.errors.is_empty()
        || spec.email.is_some()
        || spec.policy.is_some()
        || spec.retry_at.is_some()
        || spec.restart_url.is_some()
        || spec.continue_url.is_some();
    if request_specific {
        return None;
    }
    let key = PageKey {
        config: config.clone(),
        page: spec.page,
        status: spec.status.as_u16(),
        locale: spec.locale.clone(),
        form_action: spec.form_action.clone(),
        hidden: spec.hidden.clone(),
    };
    if let Some(page) = state.pages.get(&key) {
        return Some(page);
    }
    let markers = state.pages.markers()?.clone();
    let template = PageSpec {
        hidden: spec.hidden.clone(),
        form_action: spec.form_action.clone(),
        cookies: Vec::new(),
        cache_as: None,
        ..PageSpec::new(spec.page, spec.status, spec.tenant, spec.locale.clone())
    };
    let (html, csp) = rendered(
        state,
        template,
        &markers.nonce,
        &markers.csrf,
        markers.request_id.clone(),
    )?;
    state.pages.keep(key, &html, csp)
}

/// `spec` rendered with these per-request values, and the CSP sources it needs.
fn rendered(
    state: &AppState,
    spec: PageSpec<'_>,
    nonce: &str,
    csrf_token: &str,
    request_id: String,
) -> Option<(String, CspSources)> {
    let theme = spec.tenant.map_or(DEFAULT_THEME, |t| t.theme.as_str());
    let Some(messages) = messages(state, spec.tenant, &spec.locale) else {
        tracing::error!(theme, locale = %spec.locale, "no messages for page");
        return None;
    };
    let branding = spec.tenant.map(branding).unwrap_or_default();
    let logo_origin = branding
        .logo_url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .filter(|u| u.scheme() == "https")
        .map(|u| u.origin().ascii_serialization());
    let form_action = match (spec.page, spec.tenant) {
        (Page::NewPassword, Some(tenant)) => redirect_sources(tenant),
        _ => Vec::new(),
    };
    let csp = CspSources {
        img: logo_origin,
        form_action,
        connect_self: spec.page == Page::NewPassword,
    };
    let ctx = PageContext {
        messages,
        display_name: spec
            .tenant
            .map(|t| t.display_name.clone())
            .unwrap_or_default(),
        branding,
        csp_nonce: nonce.to_owned(),
        csrf_token: csrf_token.to_owned(),
        form_action: spec.form_action,
        restart_url: spec.restart_url,
        continue_url: spec.continue_url,
        static_prefix: static_prefix(),
        hidden_fields: spec
            .hidden
            .into_iter()
            .map(|(name, value)| HiddenField { name, value })
            .collect(),
        email: spec.email,
        errors: spec.errors,
        policy: spec.policy,
        request_id: Some(request_id),
        retry_at: spec.retry_at,
        secure_origin: state.settings.public_base_url().starts_with("https://"),
    };
    match state.themes.render_page(theme, spec.page, &ctx) {
        Ok(html) => Some((html, csp)),
        Err(err) => {
            tracing::error!(theme, page = ?spec.page, error = %err, "page did not render");
            None
        }
    }
}

/// The HTML response, its cookies set and its CSP sources attached for the headers layer.
fn respond(status: StatusCode, html: String, cookies: Vec<String>, csp: CspSources) -> Response {
    let mut resp = Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8");
    for cookie in cookies {
        resp = resp.header(poem::http::header::SET_COOKIE, cookie);
    }
    let mut resp = resp.body(html);
    resp.extensions_mut().insert(csp);
    resp
}

/// CSP sources for the tenant's redirect URIs: the exact URL for http(s), the scheme for
/// app deep links (`fitlife:`).
fn redirect_sources(tenant: &TenantConfig) -> Vec<String> {
    tenant
        .reset
        .redirect_uris
        .iter()
        .filter_map(|uri| url::Url::parse(uri.as_str()).ok())
        .map(|url| match url.scheme() {
            "https" | "http" => url.as_str().to_owned(),
            scheme => format!("{scheme}:"),
        })
        .collect()
}

/// A localized error text, or the generic error body when the catalog lacks `key`.
pub fn error_text(messages: Option<&Messages>, key: &str) -> String {
    messages
        .and_then(|m| {
            m.format(key, &[])
                .ok()
                .or_else(|| m.format("error.body", &[]).ok())
        })
        .unwrap_or_else(|| "Something went wrong. Please try again.".to_owned())
}

fn bare_error() -> Response {
    Response::builder()
        .status(StatusCode::INTERNAL_SERVER_ERROR)
        .content_type("text/plain; charset=utf-8")
        .body("internal error\n")
}
