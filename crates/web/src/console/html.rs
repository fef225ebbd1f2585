//! The console's page frame: escaping, the CSP, and the shell every screen shares (skip
//! link, header with who is signed in and the sign-out form, one `<main>`).
//!
//! The CSP allows scripts by nonce only and fetches to this origin only. Styles may be
//! inline because the preview frame is a `srcdoc` document, which inherits this policy:
//! its theme styles are tenant markup, but it runs in a sandbox without scripts and
//! without this origin, so inline styles are all it gets.

use poem::http::{StatusCode, header};
use poem::{IntoResponse, Response};

use super::assets;
use super::session::{CSRF_FIELD, Signed};
use crate::security::headers::CspNonce;

/// The console's Content-Security-Policy for `nonce`.
pub(crate) fn csp(nonce: &str) -> String {
    format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' https: data:; font-src 'self' https:; connect-src 'self'; \
         frame-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; \
         frame-ancestors 'none'"
    )
}

/// Escapes text for HTML content and double-quoted attributes (the themes' escaping).
pub(crate) use passgate_theme::render::escape_html as escape;

/// One screen to render.
pub(crate) struct Screen<'a> {
    /// The `<title>` and `<h1>` text.
    pub title: &'a str,
    /// Which script part runs (`data-screen`).
    pub name: &'a str,
    /// Extra `data-*` attributes of `<main>` for the script (names without `data-`).
    pub data: Vec<(&'a str, String)>,
    /// The body of `<main>` after its `<h1>`, already escaped.
    pub body: String,
}

/// The nonce the headers middleware chose for this response.
pub(crate) fn nonce_of(req: &poem::Request) -> String {
    req.extensions()
        .get::<CspNonce>()
        .map(|n| n.0.clone())
        .unwrap_or_default()
}

/// Renders `screen` for `signed` (none on the sign-in page) with `status`.
pub(crate) fn render(
    req: &poem::Request,
    status: StatusCode,
    signed: Option<&Signed>,
    screen: Screen<'_>,
) -> Response {
    let nonce = nonce_of(req);
    let who = match signed {
        Some(s) => format!(
            "<p class=\"who\">Signed in as <strong>{label}</strong> ({role})</p>\
             <form method=\"post\" action=\"{base}/sign-out\" class=\"sign-out\">\
             <input type=\"hidden\" name=\"{CSRF_FIELD}\" value=\"{csrf}\">\
             <button type=\"submit\">Sign out</button></form>",
            label = escape(&s.principal.label),
            role = s.principal.role.as_str(),
            base = super::BASE,
            csrf = escape(&s.csrf),
        ),
        None => String::new(),
    };
    let mut data = format!(" data-screen=\"{}\"", escape(screen.name));
    if let Some(s) = signed {
        data.push_str(&format!(" data-csrf=\"{}\"", escape(&s.csrf)));
    }
    for (name, value) in &screen.data {
        data.push_str(&format!(" data-{name}=\"{}\"", escape(value)));
    }
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Passgate console</title>\
         <link rel=\"stylesheet\" href=\"{css}\"></head><body>\
         <a class=\"skip\" href=\"#main\">Skip to content</a>\
         <header class=\"bar\"><a class=\"brand\" href=\"{base}/\">Passgate console</a>{who}</header>\
         <main id=\"main\" tabindex=\"-1\"{data}><h1>{title}</h1>{body}</main>\
         <script nonce=\"{nonce}\" src=\"{js}\"></script></body></html>",
        title = escape(screen.title),
        css = assets::url("console.css"),
        js = assets::url("console.js"),
        base = super::BASE,
        body = screen.body,
    );
    let mut resp = (status, poem::web::Html(html)).into_response();
    if let Ok(value) = header::HeaderValue::from_str(&csp(&nonce)) {
        resp.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    resp
}
