//! The demo's mailbox pages, mounted only by `passgate demo`: `/dev/mailbox` (HTML, newest
//! first, links clickable, each message's HTML part one click away) and `/dev/mailbox.json`
//! (the same list as JSON: `to`, `from`, `subject`, `text`, `html`, `message_id`).
//!
//! The mail is the tenant's real rendered email, kept in memory by the engine's
//! [`DevMailbox`] transport instead of being sent. Pages carry a strict CSP of their own; a
//! message's HTML is shown in a sandboxed document with no scripts and no network.

use passgate_engine::mail::{DevMailbox, OutgoingMail};
use poem::http::StatusCode;
use poem::web::{Data, Json, Path};
use poem::{Endpoint, EndpointExt, IntoResponse, Response, Route, get, handler};
use serde_json::json;

/// CSP of the list page: our inline style only, nothing else loads.
const LIST_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
form-action 'none'; frame-ancestors 'none'";
/// CSP of one message: its inline styles and https images, no script, sandboxed.
const MESSAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; \
sandbox allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation; \
base-uri 'none'; form-action 'none'";

/// The routes, to mount at `/dev`.
pub fn routes(mailbox: DevMailbox) -> impl Endpoint + 'static {
    Route::new()
        .at("/mailbox", get(list_html))
        .at("/mailbox.json", get(list_json))
        .at("/mailbox/:index", get(message_html))
        .data(mailbox)
}

/// Messages newest first, each with its position in send order (the URL of its HTML view).
fn newest_first(mailbox: &DevMailbox) -> Vec<(usize, OutgoingMail)> {
    let mut messages: Vec<(usize, OutgoingMail)> =
        mailbox.messages().into_iter().enumerate().collect();
    messages.reverse();
    messages
}

#[handler]
fn list_json(mailbox: Data<&DevMailbox>) -> Response {
    let list: Vec<serde_json::Value> = newest_first(&mailbox)
        .into_iter()
        .map(|(_, m)| {
            json!({
                "to": m.to,
                "from": m.from,
                "subject": m.subject,
                "text": m.text,
                "html": m.html,
                "message_id": m.message_id,
            })
        })
        .collect();
    Json(list)
        .with_header("Cache-Control", "no-store")
        .into_response()
}

#[handler]
fn list_html(mailbox: Data<&DevMailbox>) -> Response {
    let messages = newest_first(&mailbox);
    let mut body = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"5\">\
         <title>Passgate demo mailbox</title><style>\
         body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:52rem;padding:0 1rem;color:#1a1a1a}\
         article{border:1px solid #ddd;border-radius:8px;padding:1rem;margin:1rem 0}\
         h2{font-size:1.05rem;margin:0 0 .25rem}.meta{color:#555;font-size:.9rem}\
         pre{white-space:pre-wrap;word-break:break-all;background:#f7f7f7;padding:.75rem;border-radius:6px}\
         </style></head><body><h1>Demo mailbox</h1>\
         <p class=\"meta\">Mail the demo would have sent, newest first. This page exists only in \
         <code>passgate demo</code> and refreshes every 5 seconds. \
         <a href=\"/dev/mailbox.json\">JSON</a></p>",
    );
    if messages.is_empty() {
        body.push_str("<p>No mail yet: request a reset on one of the tenant pages.</p>");
    }
    for (index, mail) in &messages {
        body.push_str(&format!(
            "<article><h2>{subject}</h2><div class=\"meta\">To {to} · from {from} · \
             <a href=\"/dev/mailbox/{index}\">view HTML</a></div><pre>{text}</pre></article>",
            subject = escape(&mail.subject),
            to = escape(&mail.to),
            from = escape(&mail.from),
            text = linkify(&mail.text),
        ));
    }
    body.push_str("</body></html>");
    html(body, LIST_CSP)
}

#[handler]
fn message_html(mailbox: Data<&DevMailbox>, Path(index): Path<usize>) -> Response {
    match mailbox.messages().into_iter().nth(index) {
        Some(mail) => html(mail.html, MESSAGE_CSP),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn html(body: String, csp: &str) -> Response {
    Response::builder()
        .content_type("text/html; charset=utf-8")
        .header("Content-Security-Policy", csp)
        .header("Cache-Control", "no-store")
        .header("Referrer-Policy", "no-referrer")
        .header("X-Content-Type-Options", "nosniff")
        .body(body)
}

/// HTML-escapes `text`.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes `text` and turns each `http(s)://…` run into a link.
fn linkify(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = ["https://", "http://"]
        .iter()
        .filter_map(|scheme| rest.find(scheme))
        .min()
    {
        out.push_str(&escape(&rest[..start]));
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | ')'))
            .unwrap_or(tail.len());
        let url = escape(&tail[..end]);
        out.push_str(&format!("<a href=\"{url}\">{url}</a>"));
        rest = &tail[end..];
    }
    out.push_str(&escape(rest));
    out
}

#[cfg(test)]
mod tests {
    use super::linkify;

    #[test]
    fn links_become_clickable_and_text_stays_escaped() {
        assert_eq!(
            linkify("Open http://127.0.0.1:8080/reset/confirm?token=a&b=1 <now>"),
            "Open <a href=\"http://127.0.0.1:8080/reset/confirm?token=a&amp;b=1\">\
             http://127.0.0.1:8080/reset/confirm?token=a&amp;b=1</a> &lt;now&gt;"
        );
    }
}
