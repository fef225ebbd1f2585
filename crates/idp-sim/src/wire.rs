//! The simulator's request and reply values: a request read fully (body parsed as JSON or
//! form, whichever its content type says) and a reply built by a handler.

use serde_json::{Map, Value, json};

/// A request, read fully.
#[derive(Debug, Clone)]
pub(crate) struct Input {
    pub method: String,
    /// Path as sent (percent-encoded).
    pub path: String,
    pub query: Option<String>,
    pub content_type: String,
    pub authorization: Option<String>,
    /// The `auth0-custom-domain` header (which custom domain a ticket's link uses).
    pub custom_domain: Option<String>,
    /// Body parameters (JSON object members, or form fields as strings).
    pub params: Map<String, Value>,
    /// The body claimed JSON but was not a JSON object.
    pub body_invalid: bool,
}

impl Input {
    /// Builds the parameter map from a raw body.
    pub fn new(
        method: &str,
        path: &str,
        query: Option<&str>,
        content_type: &str,
        authorization: Option<&str>,
        body: &[u8],
    ) -> Self {
        let mut params = Map::new();
        let mut body_invalid = false;
        let mime = content_type.split(';').next().unwrap_or("").trim();
        if mime.eq_ignore_ascii_case("application/json") {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(map)) => params = map,
                _ => body_invalid = !body.is_empty(),
            }
        } else if mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            for (k, v) in url::form_urlencoded::parse(body) {
                params.insert(k.into_owned(), Value::String(v.into_owned()));
            }
        }
        Self {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            query: query.map(str::to_owned),
            content_type: content_type.to_owned(),
            authorization: authorization.map(str::to_owned),
            custom_domain: None,
            params,
            body_invalid,
        }
    }

    /// A body parameter as text (strings as-is; numbers and booleans formatted).
    pub fn param(&self, key: &str) -> Option<String> {
        match self.params.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    /// A query parameter, decoded.
    pub fn query_param(&self, key: &str) -> Option<String> {
        let query = self.query.as_deref()?;
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    }
}

/// A handler's answer.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// A JSON reply (`application/json; charset=utf-8`, as Auth0 and Capture send).
    pub fn json(status: u16, value: &Value) -> Self {
        Self {
            status,
            content_type: "application/json; charset=utf-8",
            headers: Vec::new(),
            body: value.to_string(),
        }
    }

    /// A text/html reply (Auth0's change_password sentence).
    pub fn html(status: u16, text: &str) -> Self {
        Self {
            status,
            content_type: "text/html; charset=utf-8",
            headers: Vec::new(),
            body: text.to_owned(),
        }
    }

    /// A reply with no body (`202 Accepted` of the revocation endpoints).
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            content_type: "application/json; charset=utf-8",
            headers: Vec::new(),
            body: String::new(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

/// The HTTP reason phrase Auth0 puts in `error`.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    }
}

/// A Management API error: `{statusCode, error, message, errorCode?}`.
pub(crate) fn management_error(status: u16, message: &str, error_code: Option<&str>) -> Reply {
    let mut body = json!({ "statusCode": status, "error": reason(status), "message": message });
    if let Some(code) = error_code {
        body["errorCode"] = json!(code);
    }
    Reply::json(status, &body)
}

/// An Authentication API error: `{error, error_description}`.
pub(crate) fn auth_error(status: u16, error: &str, description: &str) -> Reply {
    Reply::json(
        status,
        &json!({ "error": error, "error_description": description }),
    )
}

/// HTML-escapes text for element content and quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}
