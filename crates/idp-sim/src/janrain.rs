//! The Janrain / Capture endpoints (spec part B), mounted under `/janrain`:
//! `/oauth/forgot_password_native`, `/oauth/token` (authorization_code) and
//! `/oauth/update_profile_native`. Replies are HTTP 200 with `stat`, except `/oauth/token`
//! errors (400/401). Form bodies only.

use base64::Engine;
use chrono::Duration;
use serde_json::{Value, json};

use crate::config::{CodeErrorShape, JanrainSettings};
use crate::state::{Mail, ResetCode, SimState, UserToken, World};
use crate::wire::{Input, Reply};

/// A `stat:error` body with a fresh `request_token`.
pub(crate) fn error_body(world: &mut World, code: u32, error: &str, description: &str) -> Value {
    json!({
        "stat": "error", "code": code, "error": error,
        "error_description": description, "request_token": world.random_id(16),
    })
}

pub(crate) fn missing(world: &mut World, argument: &str) -> Reply {
    let mut body = error_body(
        world,
        100,
        "missing_argument",
        &format!("missing required argument: {argument}"),
    );
    body["argument_name"] = json!(argument);
    Reply::json(200, &body)
}

pub(crate) fn invalid_argument(
    world: &mut World,
    status: u16,
    argument: &str,
    description: &str,
) -> Reply {
    let mut body = error_body(world, 200, "invalid_argument", description);
    body["argument_name"] = json!(argument);
    Reply::json(status, &body)
}

/// `flow` and `flow_version` are required and must name the published flow (spec J-D2);
/// `HEAD` is accepted only when `accept_head_flow_version` says so.
fn check_flow(world: &mut World, settings: &JanrainSettings, input: &Input) -> Option<Reply> {
    for required in ["flow", "flow_version"] {
        if input.param(required).is_none_or(|v| v.is_empty()) {
            return Some(missing(world, required));
        }
    }
    let flow = input.param("flow").unwrap_or_default();
    if flow != settings.flow {
        return Some(invalid_argument(
            world,
            200,
            "flow",
            &format!("unknown flow: {flow}"),
        ));
    }
    let version = input.param("flow_version").unwrap_or_default();
    let head_ok = settings.accept_head_flow_version && version == "HEAD";
    if version != settings.flow_version && !head_ok {
        return Some(invalid_argument(
            world,
            200,
            "flow_version",
            &format!("unknown flow_version: {version}"),
        ));
    }
    None
}

/// An unknown, reused or foreign authorization code, in the configured shape (spec J-D3).
fn bad_code(world: &mut World, settings: &JanrainSettings, description: &str) -> Reply {
    match settings.code_error_shape {
        CodeErrorShape::InvalidArgument => invalid_argument(world, 400, "code", description),
        CodeErrorShape::InvalidRequest => {
            let mut body = error_body(world, 200, "invalid_request", description);
            body["sub_error"] = json!("invalid_argument");
            Reply::json(400, &body)
        }
    }
}

pub(crate) fn ok() -> Reply {
    Reply::json(200, &json!({ "stat": "ok" }))
}

/// `POST /oauth/forgot_password_native`: mails a one-time code bound to the client and
/// `redirect_uri`.
pub(crate) fn forgot_password(state: &SimState, input: &Input) -> Reply {
    let settings = &state.config.janrain;
    let mut world = state.world();
    for required in [
        "client_id",
        "locale",
        "redirect_uri",
        "form",
        settings.email_field.as_str(),
    ] {
        if input.param(required).is_none_or(|v| v.is_empty()) {
            return missing(&mut world, required);
        }
    }
    if let Some(reply) = check_flow(&mut world, settings, input) {
        return reply;
    }
    let client_id = input.param("client_id").unwrap_or_default();
    if !settings.clients.iter().any(|c| c.client_id == client_id) {
        let body = error_body(
            &mut world,
            402,
            "invalid_client_credentials",
            "unknown client_id",
        );
        return Reply::json(200, &body);
    }
    let form = input.param("form").unwrap_or_default();
    if form != settings.forgot_password_form {
        return invalid_argument(&mut world, 200, "form", &format!("unknown form: {form}"));
    }
    let email = input
        .param(&settings.email_field)
        .unwrap_or_default()
        .trim()
        .to_lowercase();
    let exists = world
        .users
        .iter()
        .any(|u| u.email == email && u.connection == settings.connection);
    if !exists {
        // [UNCONFIRMED] exact shape; spec B1's likely form: 390 with a form-level message.
        let mut body = error_body(
            &mut world,
            390,
            "invalid_form_fields",
            "some fields are invalid",
        );
        body["invalid_fields"] = json!({
            settings.forgot_password_form.as_str(): ["We don't recognize that email address."]
        });
        return Reply::json(200, &body);
    }
    let Some(recover_url) = settings
        .client_password_recover_urls
        .get(&client_id)
        .or(settings.password_recover_url.as_ref())
        .cloned()
    else {
        // [UNCONFIRMED] shape: without the setting Capture has no link to mail.
        let body = error_body(
            &mut world,
            500,
            "unexpected_error",
            "the API client has no password_recover_url setting",
        );
        return Reply::json(200, &body);
    };
    let redirect_uri = input.param("redirect_uri").unwrap_or_default();
    let code = world.random_id(14);
    let now = world.now();
    let ttl = Duration::seconds(i64::try_from(settings.code_ttl_secs).unwrap_or(i64::MAX / 2));
    world.codes.insert(
        code.clone(),
        ResetCode {
            email: email.clone(),
            client_id,
            redirect_uri,
            expires_at: now + ttl,
            used: false,
        },
    );
    let separator = if recover_url.contains('?') { '&' } else { '?' };
    world.mailbox.push(Mail {
        to: email,
        provider: "janrain".into(),
        kind: "forgot_password".into(),
        link: format!("{recover_url}{separator}code={code}"),
        code: Some(code),
        sent_at: now,
    });
    ok()
}

/// Client credentials from HTTP Basic, or the form (`client_id` + `client_secret`).
pub(crate) fn client_credentials(input: &Input) -> (Option<String>, Option<String>) {
    if let Some(basic) = input
        .authorization
        .as_deref()
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        && let Some((id, secret)) = basic.split_once(':')
    {
        return (Some(id.to_owned()), Some(secret.to_owned()));
    }
    (input.param("client_id"), input.param("client_secret"))
}

/// `POST /oauth/token` with `grant_type=authorization_code`: errors are HTTP 400/401.
pub(crate) fn token(state: &SimState, input: &Input) -> Reply {
    let settings = &state.config.janrain;
    let mut world = state.world();
    let (client_id, secret) = client_credentials(input);
    let client = settings.clients.iter().find(|c| {
        Some(c.client_id.as_str()) == client_id.as_deref()
            && Some(c.client_secret.as_str()) == secret.as_deref()
    });
    let Some(client) = client else {
        let body = error_body(
            &mut world,
            402,
            "invalid_client_credentials",
            "invalid client credentials",
        );
        return Reply::json(401, &body);
    };
    let grant_type = input.param("grant_type").unwrap_or_default();
    if grant_type != "authorization_code" {
        let mut body = error_body(
            &mut world,
            200,
            "invalid_request",
            &format!("invalid grant_type: {grant_type}"),
        );
        body["sub_error"] = json!("invalid_argument");
        body["argument_name"] = json!("grant_type");
        return Reply::json(400, &body);
    }
    let Some(code) = input.param("code") else {
        return invalid_argument(&mut world, 400, "code", "missing authorization code");
    };
    let now = world.now();
    let Some(grant) = world.codes.get(&code).cloned() else {
        return bad_code(&mut world, settings, "invalid authorization code");
    };
    if grant.used || grant.client_id != client.client_id {
        // [UNCONFIRMED] reused or foreign codes: answered like unknown ones.
        return bad_code(&mut world, settings, "invalid authorization code");
    }
    if grant.expires_at <= now {
        let body = error_body(
            &mut world,
            415,
            "authorization_code_expired",
            "authorization code expired",
        );
        return Reply::json(400, &body);
    }
    let supplied = input.param("redirect_uri").unwrap_or_default();
    if supplied != grant.redirect_uri {
        let mut body = error_body(
            &mut world,
            420,
            "redirect_uri_mismatch",
            "redirect_uri does not match",
        );
        body["expected_value"] = json!(grant.redirect_uri);
        body["supplied_value"] = json!(supplied);
        return Reply::json(400, &body);
    }
    if let Some(stored) = world.codes.get_mut(&code) {
        stored.used = true;
    }
    let access_token = world.random_id(16);
    let refresh_token = world.random_id(20);
    let ttl = settings.token_ttl_secs;
    let expires_at = now + Duration::seconds(i64::try_from(ttl).unwrap_or(i64::MAX / 2));
    world.user_tokens.insert(
        access_token.clone(),
        UserToken {
            email: grant.email,
            expires_at,
        },
    );
    Reply::json(
        200,
        &json!({ "access_token": access_token, "expires_in": ttl,
                 "refresh_token": refresh_token, "stat": "ok" }),
    )
}

/// `POST /oauth/update_profile_native` with the reset-by-link form.
pub(crate) fn update_profile(state: &SimState, input: &Input) -> Reply {
    let settings = &state.config.janrain;
    let mut world = state.world();
    for required in ["client_id", "access_token", "form"] {
        if input.param(required).is_none_or(|v| v.is_empty()) {
            return missing(&mut world, required);
        }
    }
    if let Some(reply) = check_flow(&mut world, settings, input) {
        return reply;
    }
    let token = input.param("access_token").unwrap_or_default();
    let now = world.now();
    let Some(grant) = world.user_tokens.get(&token).cloned() else {
        return invalid_argument(&mut world, 200, "access_token", "invalid access token");
    };
    if grant.expires_at <= now {
        let body = error_body(
            &mut world,
            414,
            "access_token_expired",
            "access token expired",
        );
        return Reply::json(200, &body);
    }
    let form = input.param("form").unwrap_or_default();
    if form != settings.change_password_form {
        return invalid_argument(&mut world, 200, "form", &format!("unknown form: {form}"));
    }
    let new_password = input.param("newPassword").unwrap_or_default();
    let confirm = input.param("newPasswordConfirm").unwrap_or_default();
    let field_error = |world: &mut World, field: &str, message: &str| {
        let mut body = error_body(world, 390, "invalid_form_fields", "some fields are invalid");
        body["invalid_fields"] = json!({ field: [message] });
        Reply::json(200, &body)
    };
    if new_password.is_empty() {
        return field_error(&mut world, "newPassword", "Password is required");
    }
    if new_password.chars().count() < settings.min_password_length {
        let message = format!(
            "Password must be at least {} characters",
            settings.min_password_length
        );
        return field_error(&mut world, "newPassword", &message);
    }
    if confirm != new_password {
        return field_error(&mut world, "newPasswordConfirm", "Passwords don't match");
    }
    let Some(index) = world
        .users
        .iter()
        .position(|u| u.email == grant.email && u.connection == settings.connection)
    else {
        let body = error_body(&mut world, 310, "record_not_found", "user not found");
        return Reply::json(200, &body);
    };
    if world.reuses_password(index, &new_password, settings.password_history_size) {
        // Code 214 per spec B3a; the `error` string is [UNCONFIRMED].
        let body = error_body(
            &mut world,
            214,
            "password_reused",
            "password was used recently",
        );
        return Reply::json(200, &body);
    }
    world.set_password(index, &new_password, settings.password_history_size);
    ok()
}
