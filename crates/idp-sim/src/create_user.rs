//! Auth0's `POST /api/v2/users` for a database connection (spec D9): the target of a
//! Janrain → Auth0 move (issue 19). Scope `create:users`; the connection's password checks
//! as `PATCH` applies them; 409 when the email already exists in that connection.

use serde_json::Value;

use crate::auth0::{
    authorize, database_connection, is_auth0_user, set_checked_password, user_json,
};
use crate::config::SeedUser;
use crate::state::SimState;
use crate::wire::{Input, Reply, management_error};

/// Properties `UserCreate` allows (`additionalProperties: false`).
const CREATE_FIELDS: &[&str] = &[
    "connection",
    "email",
    "password",
    "email_verified",
    "verify_email",
    "name",
    "given_name",
    "family_name",
    "nickname",
    "picture",
    "user_metadata",
    "app_metadata",
    "username",
    "phone_number",
    "phone_verified",
    "user_id",
    "blocked",
];

fn invalid_body(message: &str) -> Reply {
    management_error(400, message, Some("invalid_body"))
}

/// `POST /api/v2/users`: 201 with the new user.
pub(crate) fn create(state: &SimState, input: &Input) -> Reply {
    let mut world = state.world();
    if let Err(reply) = authorize(&world, input, "create:users") {
        return reply;
    }
    if input.body_invalid {
        return invalid_body("Invalid request payload JSON format");
    }
    if let Some(extra) = input
        .params
        .keys()
        .find(|k| !CREATE_FIELDS.contains(&k.as_str()))
    {
        return invalid_body(&format!(
            "Payload validation error: 'Additional properties not allowed: {extra}'."
        ));
    }
    for required in ["connection", "email", "password"] {
        if !input.params.get(required).is_some_and(Value::is_string) {
            return invalid_body(&format!(
                "Payload validation error: 'Missing required property: {required}'."
            ));
        }
    }
    let connection_name = input.param("connection").unwrap_or_default();
    let Some(connection) = database_connection(state, &connection_name) else {
        return invalid_body("The connection does not exist.");
    };
    let email = input
        .param("email")
        .unwrap_or_default()
        .trim()
        .to_lowercase();
    let Some((local, domain)) = email.split_once('@') else {
        return invalid_body(&format!(
            "Payload validation error: 'Object didn't pass validation for format email: {email}' on property email (The user's email)."
        ));
    };
    if local.is_empty() || !domain.contains('.') {
        return invalid_body(&format!(
            "Payload validation error: 'Object didn't pass validation for format email: {email}' on property email (The user's email)."
        ));
    }
    let exists = world
        .users
        .iter()
        .any(|u| is_auth0_user(state, u) && u.connection == connection.name && u.email == email);
    if exists {
        return management_error(409, "The user already exists.", Some("auth0_idp_error"));
    }
    let seed = SeedUser {
        email: email.clone(),
        user_id: None,
        connection: Some(connection.name.clone()),
        name: input.param("name"),
        blocked: input
            .params
            .get("blocked")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        email_verified: input
            .params
            .get("email_verified")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        password: None,
    };
    let now = world.now();
    world.upsert_user(&state.config, &seed, now);
    let index = world.users.len() - 1;
    let password = input.param("password").unwrap_or_default();
    if let Err(rejection) = set_checked_password(&mut world, index, connection, &password) {
        world.users.remove(index);
        return management_error(400, rejection, None);
    }
    let user = &mut world.users[index];
    // A created user's first password is not a reset.
    user.last_password_reset = None;
    user.password_changes = 0;
    user.user_metadata = input.params.get("user_metadata").cloned();
    user.app_metadata = input.params.get("app_metadata").cloned();
    Reply::json(201, &user_json(user))
}
