//! The admin API's outer middleware: hands the [`AdminState`] to handlers, turns every
//! error (including those poem and poem-openapi raise before a handler runs: bad JSON,
//! wrong content type, unknown route or method, missing credentials) into problem+json,
//! marks every answer `Cache-Control: no-store`, caps request bodies at
//! [`super::MAX_BODY_BYTES`] (declared or streamed), marks JSON bodies that repeat a key
//! (refused as `duplicate-field` once authenticated), and writes one audit event per 401.

use poem::error::ResponseError;
use poem::http::header::{ALLOW, CACHE_CONTROL, CONTENT_LENGTH};
use poem::http::{HeaderValue, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response};
use serde_json::json;

use super::MAX_BODY_BYTES;
use super::auth::AuthNote;
use super::state::AdminState;
use crate::problem::admin::UNAUTHORIZED_DETAIL;
use crate::problem::{Code, Problem, is_problem};

/// Longest request path kept in an audit event.
const MAX_AUDITED_PATH: usize = 200;

/// Marks a request whose JSON body repeats a key; [`super::auth`] refuses it with 400
/// `duplicate-field` after authenticating the key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RepeatedJsonKey;

/// See the module doc.
pub(crate) struct Guard<E> {
    inner: E,
    state: AdminState,
    /// Each operation path of the spec (segments, `None` for a parameter) with its methods,
    /// for the `Allow` header of a 405 (RFC 9110).
    allowed: Vec<(Vec<Option<String>>, String)>,
}

impl<E> Guard<E> {
    pub(crate) fn new(inner: E, state: AdminState) -> Self {
        Self {
            inner,
            state,
            allowed: allowed_methods(),
        }
    }

    /// The `Allow` value for a request path (as seen at or below the admin root).
    fn allow_for(&self, path: &str) -> Option<&str> {
        let rest = path.strip_prefix("/admin").unwrap_or(path);
        let rest = rest.strip_prefix("/v1")?;
        let segments: Vec<&str> = rest.trim_matches('/').split('/').collect();
        self.allowed
            .iter()
            .find(|(pattern, _)| {
                pattern.len() == segments.len()
                    && pattern
                        .iter()
                        .zip(&segments)
                        .all(|(p, s)| p.as_deref().is_none_or(|p| p == *s))
            })
            .map(|(_, methods)| methods.as_str())
    }
}

/// Path patterns and methods from the OpenAPI document.
fn allowed_methods() -> Vec<(Vec<Option<String>>, String)> {
    let spec: serde_json::Value = serde_json::from_str(&super::openapi_json()).unwrap_or_default();
    let Some(paths) = spec.get("paths").and_then(serde_json::Value::as_object) else {
        return Vec::new();
    };
    paths
        .iter()
        .map(|(path, item)| {
            let pattern = path
                .trim_matches('/')
                .split('/')
                .map(|seg| (!seg.starts_with('{')).then(|| seg.to_owned()))
                .collect();
            let methods = item
                .as_object()
                .map(|ops| {
                    ops.keys()
                        .map(|m| m.to_ascii_uppercase())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            (pattern, methods)
        })
        .collect()
}

/// The problem document for a status raised outside a handler, keeping that status.
fn problem_response(status: StatusCode, detail: Option<String>) -> Response {
    let mut problem = Problem::new(Code::from_status(status));
    problem.detail = match status {
        StatusCode::UNAUTHORIZED => Some(UNAUTHORIZED_DETAIL.to_owned()),
        _ if status.is_server_error() => None,
        _ => detail,
    };
    problem.into_response()
}

/// Parser messages may quote what was sent (`found ["…"]`), and what was sent may be a
/// secret in the wrong place: drop quoted values, and the whole detail if it still contains
/// any string of the request's JSON body.
fn scrub_detail(detail: &str, body: &[u8]) -> String {
    let mut detail = detail.to_owned();
    if let Some(at) = detail.find(", found ") {
        let rest = &detail[at..];
        let tail = rest
            .find(" (occurred while parsing")
            .map_or("", |j| &rest[j..])
            .to_owned();
        detail = format!("{}, found a value of another type{tail}", &detail[..at]);
    }
    let mut strings = Vec::new();
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        collect_strings(&value, &mut strings);
    }
    if strings
        .iter()
        .any(|s| s.len() >= 4 && detail.contains(s.as_str()))
    {
        return "the request body does not match the operation's schema".into();
    }
    detail
}

fn collect_strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        serde_json::Value::Object(map) => {
            map.values().for_each(|v| collect_strings(v, out));
        }
        _ => {}
    }
}

impl<E: Endpoint> Endpoint for Guard<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        // Bodies are buffered here up to the cap, so no extractor reads an unbounded one.
        let declared = req
            .header(CONTENT_LENGTH)
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Ok(problem_response(StatusCode::PAYLOAD_TOO_LARGE, None));
        }
        let body = req.take_body();
        let bytes = match body.into_bytes_limit(MAX_BODY_BYTES).await {
            Ok(bytes) => bytes,
            Err(err) => return Ok(problem_response(err.status(), None)),
        };
        if crate::strict::json::is_json(&req)
            && crate::strict::json::has_duplicate_keys(&bytes) == Some(true)
        {
            // Refused once the key is known (401 stays the first answer to strangers).
            req.extensions_mut().insert(RepeatedJsonKey);
        }
        req.set_body(bytes.clone());
        let note = AuthNote::default();
        req.extensions_mut().insert(note.clone());
        req.extensions_mut().insert(self.state.clone());
        let method = req.method().to_string();
        let path: String = req.uri().path().chars().take(MAX_AUDITED_PATH).collect();
        let mut response = match self.inner.call(req).await {
            Ok(output) => output.into_response(),
            Err(err) => {
                let status = err.status();
                if status.is_server_error() {
                    tracing::error!(target: "passgate::admin", error = %err, "admin request failed");
                }
                let detail = scrub_detail(&err.to_string(), &bytes);
                let response = err.into_response();
                if is_problem(&response) {
                    // A documented problem a handler returned.
                    response
                } else {
                    problem_response(status, Some(detail))
                }
            }
        };
        let status = response.status();
        if (status.is_client_error() || status.is_server_error()) && !is_problem(&response) {
            response = problem_response(status, None);
        }
        if status == StatusCode::METHOD_NOT_ALLOWED
            && let Some(allow) = self.allow_for(&path)
            && let Ok(value) = HeaderValue::from_str(allow)
        {
            response.headers_mut().insert(ALLOW, value);
        }
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if status == StatusCode::UNAUTHORIZED {
            let reason = note.get().unwrap_or("missing_credentials");
            tracing::info!(
                target: passgate_engine::SECURITY_TARGET,
                method = %method,
                path = %path.escape_debug(),
                reason,
                "admin authentication refused"
            );
            self.state
                .audit_denied(
                    "anonymous".into(),
                    None,
                    format!("denied:{reason}"),
                    json!({ "method": method, "path": path, "status": 401 }),
                )
                .await;
        }
        Ok(response)
    }
}
