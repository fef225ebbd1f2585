//! Auth0's reset links: `POST /api/v2/tickets/password-change` (with custom domains, the
//! ticket's application and the Universal Login experience) and
//! `POST /dbconnections/change_password` (the application must have the connection).

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::auth0::{authorize, is_auth0_user};
use crate::config::UniversalLogin;
use crate::reset_page;
use crate::state::{Mail, PasswordTicket, SimState};
use crate::wire::{Input, Reply, auth_error, management_error};

/// A ticket's lifetime when `ttl_sec` is 0 or absent (spec A5: 5 days); also the lifetime
/// of change-password email links.
const DEFAULT_TICKET_TTL_SECS: i64 = 432_000;

/// The sentence `/dbconnections/change_password` answers, for known and unknown emails alike.
pub const CHANGE_PASSWORD_SENTENCE: &str = "We've just sent you an email to reset your password.";

/// Properties `ChangePasswordTicketRequestContent` allows.
const TICKET_FIELDS: &[&str] = &[
    "result_url",
    "user_id",
    "client_id",
    "organization_id",
    "connection_id",
    "email",
    "ttl_sec",
    "mark_email_as_verified",
    "includeEmailInRedirect",
    "identity",
];

/// `POST /api/v2/tickets/password-change` (201).
pub(crate) fn password_change_ticket(state: &SimState, input: &Input) -> Reply {
    let mut world = state.world();
    if let Err(reply) = authorize(&world, input, "create:user_tickets") {
        return reply;
    }
    let invalid = |message: &str| management_error(400, message, Some("invalid_body"));
    if input.body_invalid {
        return invalid("Invalid request payload JSON format");
    }
    if let Some(extra) = input
        .params
        .keys()
        .find(|k| !TICKET_FIELDS.contains(&k.as_str()))
    {
        return invalid(&format!(
            "Payload validation error: 'Additional properties not allowed: {extra}'."
        ));
    }
    let custom_domains = &state.config.auth0.custom_domains;
    if custom_domains.len() > 1 {
        // With several verified custom domains the link's host must be named (spec D2).
        let named = input
            .custom_domain
            .as_deref()
            .is_some_and(|d| custom_domains.iter().any(|c| c.eq_ignore_ascii_case(d)));
        if !named {
            return management_error(
                409,
                "The tenant has multiple verified custom domains; send the auth0-custom-domain header to choose one.",
                Some("multiple_custom_domains"),
            );
        }
    }
    let has = |k: &str| input.params.contains_key(k);
    let application = match input.param("client_id") {
        Some(client_id) => match state
            .config
            .auth0
            .clients
            .iter()
            .find(|c| c.client_id == client_id)
        {
            Some(client) => Some(client),
            None => {
                return management_error(400, "The client does not exist", Some("invalid_body"));
            }
        },
        None => None,
    };
    if has("user_id") && has("email") {
        return invalid("Payload validation error: 'You cannot send user_id and email together'.");
    }
    if has("user_id") && has("connection_id") {
        return invalid("You cannot send user_id when specifying a connection_id");
    }
    if has("result_url") && has("client_id") {
        return invalid(
            "Payload validation error: 'result_url cannot be specified when using client_id'.",
        );
    }
    let index = if let Some(user_id) = input.param("user_id") {
        world
            .users
            .iter()
            .position(|u| u.user_id == user_id && is_auth0_user(state, u))
    } else if let Some(email) = input.param("email") {
        let Some(connection_id) = input.param("connection_id") else {
            return invalid("Payload validation error: 'email requires connection_id'.");
        };
        let Some(connection) = state
            .config
            .auth0
            .connections
            .iter()
            .find(|c| c.id == connection_id)
        else {
            return invalid(&format!(
                "The connection with id {connection_id} does not exist."
            ));
        };
        world
            .users
            .iter()
            .position(|u| u.email == email && u.connection == connection.name)
    } else {
        return invalid("Payload validation error: 'Missing required property: user_id or email'.");
    };
    let Some(index) = index else {
        return management_error(404, "User not found.", Some("inexistent_user"));
    };
    if let Some(ttl) = input.params.get("ttl_sec")
        && ttl.as_u64().is_none()
        && ttl.as_str().and_then(|t| t.parse::<u64>().ok()).is_none()
    {
        return invalid("Payload validation error: 'Expected type integer' on property ttl_sec.");
    }
    if world.users[index].email.is_empty() {
        return invalid("The user does not have an email address.");
    }
    // The simulator accepts only absolute http(s) URLs; the message imitates Auth0's
    // payload-validation errors [UNCONFIRMED wording].
    let result_url = input.param("result_url").filter(|u| !u.is_empty());
    if let Some(url) = &result_url
        && !url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
    {
        return invalid(&format!(
            "Payload validation error: 'Object didn't pass validation for format absolute-uri-or-empty: {url}' on property result_url."
        ));
    }
    // New Universal Login ignores result_url; the return goes through the application's
    // login route (spec D3).
    let (result_url, return_to_app) = match state.config.auth0.universal_login {
        UniversalLogin::Classic => (result_url, None),
        UniversalLogin::New => (None, application.and_then(|a| a.login_uri.clone())),
    };
    let ttl = input
        .param("ttl_sec")
        .and_then(|t| t.parse::<u64>().ok())
        .filter(|t| *t > 0)
        .map(|t| i64::try_from(t).unwrap_or(i64::MAX))
        .unwrap_or(DEFAULT_TICKET_TTL_SECS);
    let now = world.now();
    let ticket = world.random_id(32);
    let user_id = world.users[index].user_id.clone();
    world.tickets.insert(
        ticket.clone(),
        PasswordTicket {
            user_id,
            expires_at: expiry(now, ttl),
            used: false,
            result_url,
            return_to_app,
            mark_email_as_verified: flag(input, "mark_email_as_verified"),
            include_email_in_redirect: flag(input, "includeEmailInRedirect"),
        },
    );
    Reply::json(
        201,
        &json!({ "ticket": reset_page::ticket_url(state, &ticket) }),
    )
}

/// `now + ttl_secs`, saturating (a huge `ttl_sec` means "never", not a crash).
fn expiry(now: DateTime<Utc>, ttl_secs: i64) -> DateTime<Utc> {
    Duration::try_seconds(ttl_secs)
        .and_then(|ttl| now.checked_add_signed(ttl))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// A boolean body parameter (JSON `true` or form `"true"`).
fn flag(input: &Input, key: &str) -> bool {
    input.param(key).is_some_and(|v| v == "true")
}

/// `POST /dbconnections/change_password`: 200 text/html, the same sentence whether or not
/// the email exists (spec A2 follows the OAS); mails the link when it does.
pub(crate) fn change_password(state: &SimState, input: &Input) -> Reply {
    if input.body_invalid {
        return auth_error(400, "invalid_request", "Invalid JSON body");
    }
    if input.params.contains_key("password") {
        return Reply::json(400, &json!({ "error": "password is not allowed" }));
    }
    let Some(email) = input.param("email").filter(|e| !e.is_empty()) else {
        return auth_error(400, "invalid_request", "Missing required parameter: email");
    };
    let Some(connection) = input.param("connection") else {
        return auth_error(
            400,
            "invalid_request",
            "Missing required parameter: connection",
        );
    };
    if !state
        .config
        .auth0
        .connections
        .iter()
        .any(|c| c.name == connection)
    {
        // [UNCONFIRMED] exact error for an unknown connection (spec A2).
        return auth_error(400, "invalid_request", "connection not found");
    }
    if let Some(client_id) = input.param("client_id") {
        let Some(client) = state
            .config
            .auth0
            .clients
            .iter()
            .find(|c| c.client_id == client_id)
        else {
            return auth_error(400, "invalid_request", "Unknown client");
        };
        if !client.enabled_connections.contains(&connection) {
            // [UNCONFIRMED wording] the application must have the connection enabled (D4).
            return auth_error(
                400,
                "invalid_request",
                &format!("the connection is not enabled for this client: {connection}"),
            );
        }
    }
    let mut world = state.world();
    let email = email.to_lowercase();
    if let Some(user) = world
        .users
        .iter()
        .find(|u| u.email == email && u.connection == connection)
    {
        let user_id = user.user_id.clone();
        let ticket = world.random_id(32);
        let sent_at = world.now();
        world.tickets.insert(
            ticket.clone(),
            PasswordTicket {
                user_id,
                expires_at: expiry(sent_at, DEFAULT_TICKET_TTL_SECS),
                used: false,
                result_url: None,
                return_to_app: None,
                mark_email_as_verified: false,
                include_email_in_redirect: false,
            },
        );
        world.mailbox.push(Mail {
            to: email,
            provider: "auth0".into(),
            kind: "change_password".into(),
            link: reset_page::ticket_url(state, &ticket),
            code: None,
            sent_at,
        });
    }
    Reply::html(200, CHANGE_PASSWORD_SENTENCE)
}
