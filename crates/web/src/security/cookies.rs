//! The two cookies of the hosted pages, both `__Host-` prefixed (so: `Secure`, `Path=/`, no
//! `Domain`), `HttpOnly` and `SameSite=Strict`:
//!
//! - [`CSRF_COOKIE`]: a random value the CSRF token is an HMAC of (signed double submit);
//! - [`RESET_COOKIE`]: the reset credential (link token, or flow + code, or Janrain code)
//!   after it left the address bar, for [`crate::WebSettings::reset_cookie_max_age_secs`].
//!
//! Browsers treat `http://localhost` and `http://127.0.0.1` as secure contexts, so these
//! cookies also work in local development and in the browser tests without TLS.

use poem::Request;

/// Name of the CSRF cookie.
pub const CSRF_COOKIE: &str = "__Host-pg-csrf";
/// Name of the cookie that carries a reset credential between the pages of one reset.
pub const RESET_COOKIE: &str = "__Host-pg-reset";

/// The value of cookie `name` in the request, if sent exactly once.
pub fn get(req: &Request, name: &str) -> Option<String> {
    let mut found = None;
    for header in req.headers().get_all(poem::http::header::COOKIE) {
        let Ok(text) = header.to_str() else { continue };
        for pair in text.split(';') {
            let Some((key, value)) = pair.trim().split_once('=') else {
                continue;
            };
            if key == name {
                if found.is_some() {
                    // Two cookies of one name: someone is planting one. Trust neither.
                    return None;
                }
                found = Some(value.trim_matches('"').to_owned());
            }
        }
    }
    found
}

/// A `Set-Cookie` value for a `__Host-` cookie; `max_age` `None` makes a session cookie.
pub fn set(name: &str, value: &str, max_age: Option<u64>) -> String {
    let mut out = format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=Strict");
    if let Some(secs) = max_age {
        out.push_str(&format!("; Max-Age={secs}"));
    }
    out
}

/// A `Set-Cookie` value that deletes cookie `name`.
pub fn clear(name: &str) -> String {
    format!("{name}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0")
}
