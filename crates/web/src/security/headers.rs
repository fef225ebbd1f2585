//! The security headers of every response, set in this one place (security.md items 33, 36,
//! 37, 41): a strict CSP with a nonce fresh per response, HSTS, `nosniff`,
//! `no-referrer`, COOP, `X-Frame-Options`, `X-Robots-Tag`, and `Cache-Control: no-store`
//! unless a handler chose a cache policy (static assets). A request without a known `Host`
//! is refused with 400 before any handler runs ([`super::host`]).
//!
//! Handlers read the nonce from the request's [`CspNonce`] extension and may widen
//! `img-src` (tenant logo) and `form-action` (the tenant's redirect URIs, since
//! `form-action` also governs the redirect answering a form) by putting [`CspSources`] into
//! the response's extensions. A handler that sets its own `Content-Security-Policy` (the rule worker) keeps
//! it.

use poem::{
    Endpoint, IntoResponse, Request, Response, Result,
    http::{HeaderValue, StatusCode, header},
};

use crate::settings::WebSettings;

/// The CSP nonce of the response being built (request extension).
#[derive(Debug, Clone)]
pub struct CspNonce(pub String);

/// Extra CSP sources for one response (response extension), set by the page handler.
#[derive(Debug, Clone, Default)]
pub struct CspSources {
    /// The tenant's https logo origin, for `img-src`.
    pub img: Option<String>,
    /// Where the page's form may end up: the tenant's allowlisted redirect URIs
    /// (`form-action` also governs the redirect that answers the form).
    pub form_action: Vec<String>,
    /// `connect-src 'self'` instead of `'none'`: the new-password page's live check.
    pub connect_self: bool,
}

/// Whether `source` can stand in a CSP source list as one token.
fn is_source_token(source: &str) -> bool {
    !source.is_empty()
        && source
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, ';' | ',' | '\'' | '"'))
}

/// The page CSP for `nonce`, widened by `extra`.
pub fn page_csp(nonce: &str, extra: &CspSources) -> String {
    // One buffer, no intermediate strings: this runs for every page response.
    let mut csp = String::with_capacity(
        400 + extra.img.as_ref().map_or(0, String::len)
            + extra.form_action.iter().map(|s| s.len() + 1).sum::<usize>(),
    );
    csp.push_str("default-src 'none'; script-src 'nonce-");
    csp.push_str(nonce);
    csp.push_str("' 'strict-dynamic'; style-src 'self' 'nonce-");
    csp.push_str(nonce);
    csp.push_str("'; img-src 'self'");
    for source in extra.img.iter().filter(|s| is_source_token(s)) {
        csp.push(' ');
        csp.push_str(source);
    }
    csp.push_str("; font-src 'self'; worker-src 'self'; connect-src ");
    csp.push_str(if extra.connect_self {
        "'self'"
    } else {
        "'none'"
    });
    csp.push_str("; manifest-src 'self'; form-action 'self'");
    for source in extra.form_action.iter().filter(|s| is_source_token(s)) {
        csp.push(' ');
        csp.push_str(source);
    }
    csp.push_str("; base-uri 'none'; object-src 'none'; frame-ancestors 'none'");
    csp
}

/// The CSP of Swagger UI at `/admin/docs` (its page sets it itself): scripts, styles and
/// fetches from this origin only — "Try it out" calls the admin API — images also as
/// `data:` (Swagger UI's icons); no inline code, no other origin, no framing.
pub const ADMIN_DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; \
     base-uri 'none'; object-src 'none'; frame-ancestors 'none'";

/// The CSP of the rule worker's own script: it may compile the tenant's rule
/// (`new Function`) and nothing else — no network, no imports.
pub const WORKER_CSP: &str = "default-src 'none'; script-src 'unsafe-eval'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// Wraps the whole app: host check, nonce, then headers on whatever comes back (errors too).
pub async fn around<E: Endpoint>(
    settings: std::sync::Arc<WebSettings>,
    next: E,
    mut req: Request,
) -> Result<Response> {
    let Some(nonce) = super::random_b64::<16>() else {
        return Ok(finish(
            StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            "unavailable",
        ));
    };
    if let Err(refusal) = super::host::check(&settings, &req) {
        tracing::warn!(target: passgate_engine::SECURITY_TARGET, reason = refusal.as_str(), "request refused: host");
        let resp = Response::builder()
            .status(StatusCode::BAD_REQUEST)
            .content_type("text/plain; charset=utf-8")
            .body("unknown host\n");
        return Ok(finish(resp, &nonce));
    }
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let resp = match next.call(req).await {
        Ok(resp) => resp.into_response(),
        Err(err) => err.into_response(),
    };
    Ok(finish(resp, &nonce))
}

fn set(resp: &mut Response, name: header::HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, value);
    }
}

/// The headers every response carries, whatever it is.
const FIXED_HEADERS: [(header::HeaderName, &str); 8] = [
    (
        header::STRICT_TRANSPORT_SECURITY,
        "max-age=31536000; includeSubDomains",
    ),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (
        header::HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    ),
    (
        header::HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    ),
    (
        header::HeaderName::from_static("x-robots-tag"),
        "noindex, nofollow",
    ),
    (
        header::HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=()",
    ),
];

/// Adds the headers to one response.
fn finish(mut resp: Response, nonce: &str) -> Response {
    if !resp.headers().contains_key(header::CONTENT_SECURITY_POLICY) {
        let csp = match resp.extensions().get::<CspSources>() {
            Some(extra) => page_csp(nonce, extra),
            None => page_csp(nonce, &CspSources::default()),
        };
        set(&mut resp, header::CONTENT_SECURITY_POLICY, &csp);
    }
    let headers = resp.headers_mut();
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    // Fixed values, checked at compile time: no parsing or allocation per response.
    for (name, value) in FIXED_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    resp.headers_mut().remove(header::SERVER);
    resp.headers_mut().remove("x-powered-by");
    resp
}
