//! The Auth0 endpoints (spec part A): `/oauth/token` (client credentials),
//! `/api/v2/users-by-email`, `/api/v2/users/{id}` (GET, PATCH, session DELETEs); the reset
//! links (`/api/v2/tickets/password-change`, `/dbconnections/change_password`) are in
//! [`crate::tickets`].

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::config::{Plan, SimConnection};
use crate::policy::{contains_personal_info, in_dictionary, meets_strength};
use crate::state::{IssuedToken, SimState, SimUser, World};
use crate::wire::{Input, Reply, auth_error, management_error};

pub use crate::tickets::CHANGE_PASSWORD_SENTENCE;
pub(crate) use crate::tickets::{change_password, password_change_ticket};

/// `POST /oauth/token` with `grant_type=client_credentials` (form or JSON).
pub(crate) fn token(state: &SimState, input: &Input) -> Reply {
    if input.body_invalid {
        return auth_error(400, "invalid_request", "Invalid JSON body");
    }
    let Some(grant_type) = input.param("grant_type") else {
        return auth_error(
            400,
            "invalid_request",
            "Missing required parameter: grant_type",
        );
    };
    if grant_type != "client_credentials" {
        return auth_error(400, "unsupported_grant_type", "Unsupported grant type");
    }
    let (client_id, client_secret) = client_credentials(input);
    let client = state.config.auth0.clients.iter().find(|c| {
        Some(c.client_id.as_str()) == client_id.as_deref()
            && Some(c.client_secret.as_str()) == client_secret.as_deref()
    });
    let Some(client) = client else {
        // [UNCONFIRMED] real tenants answer a wrong secret this way (spec A1).
        return auth_error(401, "access_denied", "Unauthorized");
    };
    let audience = input.param("audience").unwrap_or_default();
    if is_custom_domain_audience(state, &audience) {
        // A custom domain is a login host, not an API identifier (spec D1).
        return auth_error(
            403,
            "access_denied",
            &format!("Service not found: {audience}"),
        );
    }
    if audience != management_audience(state) && !state.config.auth0.audiences.contains(&audience) {
        return auth_error(
            403,
            "access_denied",
            &format!(
                "Client is not authorized to access \"{audience}\". You need to create a \"client-grant\" associated to this API."
            ),
        );
    }
    let ttl = state.config.auth0.token_ttl_secs;
    let scope = client.scopes.join(" ");
    let mut world = state.world();
    let now = world.now();
    let access_token = jwt_like(&mut world, &client.client_id, &audience, &scope, now, ttl);
    world.tokens.insert(
        access_token.clone(),
        IssuedToken {
            scopes: client.scopes.clone(),
            expires_at: now + Duration::seconds(i64::try_from(ttl).unwrap_or(i64::MAX / 2)),
        },
    );
    Reply::json(
        200,
        &json!({ "access_token": access_token, "token_type": "Bearer", "expires_in": ttl, "scope": scope }),
    )
}

/// The Management API identifier: `https://{canonical domain}/api/v2/` (spec D1), never the
/// plain-http address the simulator happens to serve on.
pub(crate) fn management_audience(state: &SimState) -> String {
    format!("https://{}/api/v2/", canonical_domain(state))
}

/// The canonical tenant domain: configured, or the bound `127.0.0.1:PORT`.
pub(crate) fn canonical_domain(state: &SimState) -> String {
    state
        .config
        .auth0
        .canonical_domain
        .clone()
        .unwrap_or_else(|| {
            state
                .base_url
                .split_once("://")
                .map_or(state.base_url.as_str(), |(_, host)| host)
                .trim_end_matches('/')
                .to_owned()
        })
}

/// Whether `audience` is `http(s)://{custom domain}/api/v2/` (or any path on one).
fn is_custom_domain_audience(state: &SimState, audience: &str) -> bool {
    url::Url::parse(audience)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .is_some_and(|host| {
            state
                .config
                .auth0
                .custom_domains
                .iter()
                .any(|d| d.eq_ignore_ascii_case(&host))
        })
}

/// Client credentials from the body, or from HTTP Basic (`client_secret_basic`).
fn client_credentials(input: &Input) -> (Option<String>, Option<String>) {
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

/// A token shaped like Auth0's (three base64url parts); the simulator looks it up by value.
fn jwt_like(
    world: &mut World,
    client_id: &str,
    audience: &str,
    scope: &str,
    now: DateTime<Utc>,
    ttl: u64,
) -> String {
    let header = json!({ "alg": "RS256", "typ": "JWT", "kid": "sim" });
    let claims = json!({
        "iss": "https://sim.local/", "sub": format!("{client_id}@clients"), "aud": audience,
        "iat": now.timestamp(), "exp": now.timestamp().saturating_add_unsigned(ttl),
        "scope": scope, "gty": "client-credentials", "jti": world.random_id(16),
    });
    let signature = world.random_id(43);
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// Checks the bearer token and its scope, as the Management API does.
pub(crate) fn authorize(world: &World, input: &Input, scope: &str) -> Result<(), Reply> {
    let Some(header) = input.authorization.as_deref() else {
        return Err(management_error(401, "Missing authentication", None));
    };
    let Some(token) = header.strip_prefix("Bearer ").map(str::trim) else {
        return Err(management_error(
            400,
            "Bad HTTP authentication header format",
            Some("Bearer"),
        ));
    };
    let unauthorized = |message: &str| {
        Reply::json(
            401,
            &json!({ "statusCode": 401, "error": "Unauthorized", "message": message,
                     "attributes": { "error": message } }),
        )
    };
    let Some(issued) = world.tokens.get(token) else {
        return Err(unauthorized("Invalid token"));
    };
    if issued.expires_at <= world.now() {
        return Err(unauthorized(
            "Expired token received for JSON Web Token validation",
        ));
    }
    if !issued.scopes.iter().any(|s| s == scope) {
        return Err(management_error(
            403,
            &format!("Insufficient scope; expected any of: {scope}."),
            Some("insufficient_scope"),
        ));
    }
    Ok(())
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A Management API user object; unset fields are omitted, as in the recordings.
pub(crate) fn user_json(user: &SimUser) -> Value {
    let (provider, bare_id) = user
        .user_id
        .split_once('|')
        .unwrap_or(("auth0", user.user_id.as_str()));
    let mut value = json!({
        "blocked": user.blocked,
        "created_at": timestamp(user.created_at),
        "email": user.email,
        "email_verified": user.email_verified,
        "identities": [{ "connection": user.connection, "user_id": bare_id,
                          "provider": provider, "isSocial": false }],
        "name": user.name.clone().unwrap_or_else(|| user.email.clone()),
        "nickname": user.email.split('@').next().unwrap_or(""),
        "picture": "https://s.gravatar.com/avatar/sim.png",
        "updated_at": timestamp(user.updated_at),
        "user_id": user.user_id,
    });
    if let Some(reset) = user.last_password_reset {
        value["last_password_reset"] = json!(timestamp(reset));
    }
    if let Some(metadata) = &user.user_metadata {
        value["user_metadata"] = metadata.clone();
    }
    if let Some(metadata) = &user.app_metadata {
        value["app_metadata"] = metadata.clone();
    }
    value
}

/// The tenant's database connection named `name`.
pub(crate) fn database_connection<'a>(
    state: &'a SimState,
    name: &str,
) -> Option<&'a SimConnection> {
    state
        .config
        .auth0
        .connections
        .iter()
        .find(|c| c.name == name)
}

pub(crate) fn is_auth0_user(state: &SimState, user: &SimUser) -> bool {
    user.connection != state.config.janrain.connection
}

/// `GET /api/v2/users-by-email?email=` (case-sensitive; every connection).
pub(crate) fn users_by_email(state: &SimState, input: &Input) -> Reply {
    let world = state.world();
    if let Err(reply) = authorize(&world, input, "read:users") {
        return reply;
    }
    let Some(email) = input.query_param("email") else {
        return management_error(
            400,
            "Query validation error: 'Missing required property: email' on property email (Email address to search for (case-sensitive)).",
            Some("invalid_query_string"),
        );
    };
    let users: Vec<Value> = world
        .users
        .iter()
        .filter(|u| is_auth0_user(state, u) && u.email == email)
        .map(user_json)
        .collect();
    Reply::json(200, &Value::Array(users))
}

fn user_not_found() -> Reply {
    management_error(404, "The user does not exist.", Some("inexistent_user"))
}

fn find_user(state: &SimState, world: &World, encoded_id: &str) -> Option<usize> {
    let id = percent_decode(encoded_id)?;
    world
        .users
        .iter()
        .position(|u| u.user_id == id && is_auth0_user(state, u))
}

fn percent_decode(text: &str) -> Option<String> {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// `GET /api/v2/users/{id}`.
pub(crate) fn get_user(state: &SimState, input: &Input, encoded_id: &str) -> Reply {
    let world = state.world();
    if let Err(reply) = authorize(&world, input, "read:users") {
        return reply;
    }
    match find_user(state, &world, encoded_id) {
        Some(index) => Reply::json(200, &user_json(&world.users[index])),
        None => user_not_found(),
    }
}

/// Properties `UpdateUserRequestContent` allows (`additionalProperties: false`).
const PATCH_FIELDS: &[&str] = &[
    "blocked",
    "email_verified",
    "email",
    "phone_number",
    "phone_verified",
    "user_metadata",
    "app_metadata",
    "given_name",
    "family_name",
    "name",
    "nickname",
    "picture",
    "verify_email",
    "verify_phone_number",
    "password",
    "connection",
    "client_id",
    "username",
];

/// `PATCH /api/v2/users/{id}`: the password change with the connection's policy checks.
/// What a `DELETE /api/v2/users/{id}/…` revokes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Revocation {
    /// `…/sessions` (scope `delete:sessions`).
    Sessions,
    /// `…/refresh-tokens` (scope `delete:refresh_tokens`).
    RefreshTokens,
}

/// `DELETE /api/v2/users/{id}/sessions` and `…/refresh-tokens` (Enterprise plan features):
/// `202` with an empty body ("deletion request accepted"), counted on the user; 403 on
/// other plans.
pub(crate) fn revoke(state: &SimState, input: &Input, encoded_id: &str, what: Revocation) -> Reply {
    let mut world = state.world();
    let scope = match what {
        Revocation::Sessions => "delete:sessions",
        Revocation::RefreshTokens => "delete:refresh_tokens",
    };
    if let Err(reply) = authorize(&world, input, scope) {
        return reply;
    }
    if state.config.auth0.plan != Plan::Enterprise {
        // Session management is an Enterprise feature (spec D7) [UNCONFIRMED wording].
        return management_error(
            403,
            "This feature is not available on your plan (Enterprise only).",
            Some("operation_not_supported"),
        );
    }
    let Some(index) = find_user(state, &world, encoded_id) else {
        return user_not_found();
    };
    let user = &mut world.users[index];
    match what {
        Revocation::Sessions => user.sessions_revoked += 1,
        Revocation::RefreshTokens => user.refresh_tokens_revoked += 1,
    }
    Reply::empty(202)
}

pub(crate) fn patch_user(state: &SimState, input: &Input, encoded_id: &str) -> Reply {
    let mut world = state.world();
    if let Err(reply) = authorize(&world, input, "update:users") {
        return reply;
    }
    if input.body_invalid {
        return management_error(
            400,
            "Invalid request payload JSON format",
            Some("invalid_body"),
        );
    }
    if let Some(extra) = input
        .params
        .keys()
        .find(|k| !PATCH_FIELDS.contains(&k.as_str()))
    {
        return management_error(
            400,
            &format!("Payload validation error: 'Additional properties not allowed: {extra}'."),
            Some("invalid_body"),
        );
    }
    let Some(index) = find_user(state, &world, encoded_id) else {
        return user_not_found();
    };
    let has = |k: &str| input.params.contains_key(k);
    if has("password") && has("email") {
        return management_error(
            400,
            "Cannot update password and email simultaneously.",
            Some("invalid_body"),
        );
    }
    if has("password") && has("email_verified") {
        return management_error(
            400,
            "Cannot update password and email_verified simultaneously.",
            Some("invalid_body"),
        );
    }
    if has("password") && has("username") {
        return management_error(
            400,
            "Cannot update username and password simultaneously.",
            Some("invalid_body"),
        );
    }
    let user_connection = world.users[index].connection.clone();
    let connection_name = input.param("connection").unwrap_or(user_connection.clone());
    let Some(connection) = database_connection(state, &connection_name) else {
        return management_error(400, "Connection does not exist.", Some("invalid_body"));
    };
    if connection.name != user_connection {
        return management_error(
            400,
            "Connection is not supported for this operation.",
            Some("invalid_body"),
        );
    }
    if let Some(value) = input.params.get("password") {
        let Some(password) = value.as_str().filter(|p| !p.is_empty()) else {
            return management_error(
                400,
                "Payload validation error: 'Expected type string but found type null' on property password.",
                Some("invalid_body"),
            );
        };
        if let Err(rejection) = set_checked_password(&mut world, index, connection, password) {
            return management_error(400, rejection, None);
        }
    }
    let now = world.now();
    let user = &mut world.users[index];
    if let Some(blocked) = input.params.get("blocked").and_then(Value::as_bool) {
        user.blocked = blocked;
    }
    if let Some(verified) = input.params.get("email_verified").and_then(Value::as_bool) {
        user.email_verified = verified;
    }
    if let Some(name) = input.param("name") {
        user.name = Some(name);
    }
    user.updated_at = now;
    Reply::json(200, &user_json(user))
}

/// Sets a user's password if the connection's checks pass, in Auth0's order (strength,
/// dictionary, personal info, history). `Err` is the `"<Name>: <text>"` rejection message.
/// Both `PATCH /api/v2/users/{id}` and the hosted reset page go through here.
pub(crate) fn set_checked_password(
    world: &mut World,
    index: usize,
    connection: &SimConnection,
    password: &str,
) -> Result<(), &'static str> {
    let user = &world.users[index];
    if !meets_strength(connection.password_policy, connection.min_length, password) {
        return Err("PasswordStrengthError: Password is too weak");
    }
    if connection.password_dictionary && in_dictionary(&connection.dictionary, password) {
        return Err("PasswordDictionaryError: Password is too common");
    }
    if connection.password_no_personal_info
        && contains_personal_info(password, &user.email, user.name.as_deref())
    {
        return Err("PasswordNoUserInfoError: Password contains user information");
    }
    if world.reuses_password(index, password, connection.password_history_size) {
        return Err("PasswordHistoryError: Password has previously been used");
    }
    world.set_password(index, password, connection.password_history_size);
    Ok(())
}
