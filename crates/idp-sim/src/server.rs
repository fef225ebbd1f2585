//! The HTTP side: read each request fully, record it, apply any injected fault, route it to
//! the provider handler, and answer with Auth0's rate-limit headers.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use poem::http::StatusCode;
use poem::{Request, Response};
use serde_json::{Map, Value, json};

use crate::limits::Verdict;
use crate::oidc::OIDC_PREFIX;
use crate::state::{FaultKind, RecordedCall, SimState, sha256_hex};
use crate::wire::{Input, Reply, auth_error, management_error};
use crate::{auth0, control, create_user, entity, janrain, oidc, reset_page};

/// Where the Janrain endpoints are mounted (the real ones live at a capture domain's root).
pub const JANRAIN_PREFIX: &str = "/janrain";

/// Largest body the simulator reads (Auth0's payload limit is 1 MB).
const MAX_BODY: usize = 1024 * 1024;

/// The headers' limit on the endpoints the plans do not limit (`/oauth/token`, the page).
const RATE_LIMIT: u32 = 50;

/// Parameters whose values are secrets: recorded only as `sha256:<hex>`.
const SECRET_PARAMS: &[&str] = &[
    "password",
    "client_secret",
    "newPassword",
    "newPasswordConfirm",
    "confirmNewPassword",
    "access_token",
    "code",
    "refresh_token",
    "code_verifier",
    "currentPassword",
];

/// Handles one request.
pub(crate) async fn handle(state: Arc<SimState>, mut req: Request) -> Response {
    let body = match req.take_body().into_bytes_limit(MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(_) => return into_response(management_error(413, "Payload too large", None)),
    };
    let peer = req.remote_addr().as_socket_addr().copied();
    let header = |name: &str| req.header(name).map(str::to_owned);
    let mut input = Input::new(
        req.method().as_str(),
        req.uri().path(),
        req.uri().query(),
        &header("content-type").unwrap_or_default(),
        header("authorization").as_deref(),
        &body,
    );
    input.custom_domain = header("auth0-custom-domain");
    if input.path.starts_with("/_sim/") || input.path == "/_sim" {
        return into_response(control::handle(&state, &input));
    }

    let seq = record(&state, &input);
    let fault = state.world().take_fault(&input.method, &input.path);
    // Neither Janrain nor the OIDC issuer sends Auth0's rate-limit headers.
    let janrain = input.path.starts_with(JANRAIN_PREFIX) || oidc_path(&input.path).is_some();
    let verdict = if janrain {
        None
    } else {
        plan_limit(&state, &input, peer.map(|p| p.ip()))
    };
    if let Some(verdict) = verdict.filter(|v| !v.allowed) {
        let reply = too_many_requests(&state, &input, verdict);
        finish(&state, seq, reply.status, None);
        return into_response(reply);
    }
    let reply = match &fault {
        None => route(&state, &input),
        Some(FaultKind::Latency { ms }) => {
            tokio::time::sleep(Duration::from_millis(*ms)).await;
            route(&state, &input)
        }
        Some(FaultKind::ApplyThenDelay { ms }) => {
            let reply = route(&state, &input);
            tokio::time::sleep(Duration::from_millis(*ms)).await;
            reply
        }
        Some(FaultKind::Status { status }) => management_error(*status, "Simulated failure", None),
        Some(FaultKind::RateLimit {
            reset_in_secs,
            retry_after_secs,
        }) => {
            let reset = state
                .now()
                .timestamp()
                .saturating_add_unsigned(*reset_in_secs);
            let mut reply = management_error(
                429,
                "Global limit has been reached",
                Some("too_many_requests"),
            )
            .with_header("x-ratelimit-limit", RATE_LIMIT.to_string())
            .with_header("x-ratelimit-remaining", "0")
            .with_header("x-ratelimit-reset", reset.to_string());
            if let Some(after) = retry_after_secs {
                reply = reply.with_header("retry-after", after.to_string());
            }
            reply
        }
        Some(FaultKind::JanrainError { code }) => {
            let mut world = state.world();
            let error = match code {
                510 => "api_limit_error",
                480 => "api_feature_disabled",
                _ => "unexpected_error",
            };
            Reply::json(
                200,
                &janrain::error_body(&mut world, *code, error, "simulated"),
            )
        }
        Some(FaultKind::Drop) => {
            finish(&state, seq, 0, fault.as_ref());
            if let Some(peer) = peer {
                state.connections.kill(&peer);
            }
            return into_response(management_error(500, "connection dropped", None));
        }
    };
    finish(&state, seq, reply.status, fault.as_ref());
    let reply = match verdict {
        _ if janrain => reply,
        Some(verdict) => with_verdict_headers(&state, reply, verdict),
        None => with_rate_limit_headers(&state, reply),
    };
    into_response(reply)
}

/// The rest of a path under [`OIDC_PREFIX`] (`/oidc/token` → `/token`).
fn oidc_path(path: &str) -> Option<&str> {
    path.strip_prefix(OIDC_PREFIX)
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
}

fn route(state: &SimState, input: &Input) -> Reply {
    let path = input.path.as_str();
    if let Some(oidc_path) = oidc_path(path) {
        return oidc::route(state, input, oidc_path);
    }
    if let Some(janrain_path) = path.strip_prefix(JANRAIN_PREFIX) {
        return match (input.method.as_str(), janrain_path) {
            ("POST", "/oauth/forgot_password_native") => janrain::forgot_password(state, input),
            ("POST", "/oauth/token") => janrain::token(state, input),
            ("POST", "/oauth/update_profile_native") => janrain::update_profile(state, input),
            ("POST", "/entity") => entity::read(state, input),
            ("POST", "/entity.update") => entity::update(state, input),
            _ => Reply::json(
                404,
                &json!({ "stat": "error", "code": 404, "error": "not_found" }),
            ),
        };
    }
    match (input.method.as_str(), path) {
        ("POST", "/oauth/token") => auth0::token(state, input),
        ("POST", "/dbconnections/change_password") => auth0::change_password(state, input),
        ("GET", "/api/v2/users-by-email") => auth0::users_by_email(state, input),
        ("POST", "/api/v2/users") => create_user::create(state, input),
        ("POST", "/api/v2/tickets/password-change") => auth0::password_change_ticket(state, input),
        ("GET", reset_page::PATH) => reset_page::show(state, input),
        ("POST", reset_page::PATH) => reset_page::submit(state, input),
        (method, _) => match path.strip_prefix("/api/v2/users/") {
            Some(id) if !id.is_empty() && !id.contains('/') && method == "GET" => {
                auth0::get_user(state, input, id)
            }
            Some(id) if !id.is_empty() && !id.contains('/') && method == "PATCH" => {
                auth0::patch_user(state, input, id)
            }
            Some(rest) if method == "DELETE" => match rest.split_once('/') {
                Some((id, "sessions")) if !id.is_empty() => {
                    auth0::revoke(state, input, id, auth0::Revocation::Sessions)
                }
                Some((id, "refresh-tokens")) if !id.is_empty() => {
                    auth0::revoke(state, input, id, auth0::Revocation::RefreshTokens)
                }
                _ => management_error(404, "Not Found", None),
            },
            _ => management_error(404, "Not Found", None),
        },
    }
}

/// Logs the call with secrets hashed; returns its sequence number.
fn record(state: &SimState, input: &Input) -> u64 {
    let mut params = Map::new();
    let mut password_sha256 = None;
    for (key, value) in &input.params {
        if SECRET_PARAMS.contains(&key.as_str()) {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let hash = sha256_hex(&text);
            if key == "password" || key == "newPassword" {
                password_sha256 = Some(hash.clone());
            }
            params.insert(key.clone(), Value::String(format!("sha256:{hash}")));
        } else {
            params.insert(key.clone(), value.clone());
        }
    }
    let mut world = state.world();
    let seq = world.calls.len() as u64 + 1;
    world.calls.push(RecordedCall {
        seq,
        method: input.method.clone(),
        path: input.path.clone(),
        query: input.query.clone(),
        content_type: Some(input.content_type.clone()).filter(|c| !c.is_empty()),
        authorized: input.authorization.is_some(),
        params,
        password_sha256,
        status: 0,
        fault: None,
    });
    seq
}

fn finish(state: &SimState, seq: u64, status: u16, fault: Option<&FaultKind>) {
    let mut world = state.world();
    if let Some(call) = world.calls.iter_mut().find(|c| c.seq == seq) {
        call.status = status;
        call.fault = fault.map(|f| format!("{f:?}"));
    }
}

/// The plan's verdict for a Management API or change-password request; `None` for the
/// endpoints the simulator does not limit (or when limits are off).
fn plan_limit(state: &SimState, input: &Input, peer: Option<IpAddr>) -> Option<Verdict> {
    if input.path.starts_with("/api/v2/") {
        state.limits.management()
    } else if input.path == "/dbconnections/change_password" {
        let email = input.param("email").unwrap_or_default();
        state.limits.change_password(peer, &email)
    } else {
        None
    }
}

/// `x-ratelimit-reset`: the whole epoch second at or after the moment the bucket allows it
/// (rounded up, so a client that waits until then is never early).
fn reset_epoch(state: &SimState, verdict: Verdict) -> i64 {
    let now = state.now();
    let exact = now.timestamp() as f64
        + f64::from(now.timestamp_subsec_millis()) / 1000.0
        + verdict.reset_in_secs.clamp(0.0, 86_400.0);
    exact.ceil() as i64
}

/// A 429 in the endpoint's own shape (spec D6), with the bucket's headers.
fn too_many_requests(state: &SimState, input: &Input, verdict: Verdict) -> Reply {
    let reply = if input.path.starts_with("/api/v2/") {
        management_error(
            429,
            "Global limit has been reached",
            Some("too_many_requests"),
        )
    } else {
        auth_error(
            429,
            "too_many_requests",
            "Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.",
        )
    };
    with_verdict_headers(state, reply, verdict)
}

fn with_verdict_headers(state: &SimState, reply: Reply, verdict: Verdict) -> Reply {
    if reply.headers.iter().any(|(k, _)| k == "x-ratelimit-reset") {
        return reply;
    }
    reply
        .with_header("x-ratelimit-limit", verdict.limit.to_string())
        .with_header("x-ratelimit-remaining", verdict.remaining.to_string())
        .with_header("x-ratelimit-reset", reset_epoch(state, verdict).to_string())
}

fn with_rate_limit_headers(state: &SimState, reply: Reply) -> Reply {
    if reply.headers.iter().any(|(k, _)| k == "x-ratelimit-reset") {
        return reply;
    }
    let reset = state.now().timestamp() + 1;
    reply
        .with_header("x-ratelimit-limit", RATE_LIMIT.to_string())
        .with_header("x-ratelimit-remaining", (RATE_LIMIT - 1).to_string())
        .with_header("x-ratelimit-reset", reset.to_string())
}

fn into_response(reply: Reply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut builder = Response::builder()
        .status(status)
        .content_type(reply.content_type);
    for (name, value) in reply.headers {
        builder = builder.header(name, value);
    }
    builder.body(reply.body)
}
