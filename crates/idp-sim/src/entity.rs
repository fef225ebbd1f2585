//! Janrain's server-side entity API (spec B3b, J-D5, J-D6), mounted under `/janrain`:
//! `POST /entity` reads one account, `POST /entity.update` changes its attributes (the
//! password, for a move to Auth0). Both need HTTP Basic (or form) credentials of a client
//! with the `owner` or `direct_access` feature, and answer HTTP 200 with `stat` whatever
//! happened, as Capture's entity endpoints do.

use serde_json::{Map, Value, json};

use crate::config::{JANRAIN_DIRECT_ACCESS, JANRAIN_OWNER};
use crate::janrain::{client_credentials, error_body, invalid_argument, missing, ok};
use crate::state::{SimState, SimUser, World};
use crate::wire::{Input, Reply};

/// The attributes of the simulator's `user` entity type that `/entity` can return (a subset
/// of Capture's standard schema).
const READABLE: &[&str] = &[
    "id",
    "uuid",
    "email",
    "emailVerified",
    "displayName",
    "givenName",
    "familyName",
    "created",
    "lastUpdated",
];

/// The one attribute `/entity.update` changes in the simulator.
const PASSWORD: &str = "password";

fn reply(body: &Value) -> Reply {
    Reply::json(200, body)
}

fn refuse(world: &mut World, code: u32, error: &str, description: &str) -> Reply {
    reply(&error_body(world, code, error, description))
}

/// The caller must be a known client with the right secret (402 otherwise) and the
/// `owner` or `direct_access` feature (403 `client_permission_error` otherwise).
fn authenticate(state: &SimState, world: &mut World, input: &Input) -> Option<Reply> {
    let (client_id, secret) = client_credentials(input);
    let client = state.config.janrain.clients.iter().find(|c| {
        Some(c.client_id.as_str()) == client_id.as_deref()
            && Some(c.client_secret.as_str()) == secret.as_deref()
    });
    let Some(client) = client else {
        return Some(refuse(
            world,
            402,
            "invalid_client_credentials",
            "invalid client credentials",
        ));
    };
    let server_access = client
        .scopes
        .iter()
        .any(|s| s == JANRAIN_OWNER || s == JANRAIN_DIRECT_ACCESS);
    if !server_access {
        return Some(refuse(
            world,
            403,
            "client_permission_error",
            "this client does not have permission to use the entity API",
        ));
    }
    None
}

/// Finds the account `type_name` + `id` | `uuid` | `key_attribute=email`/`key_value` name.
/// `Err` is the Capture error reply (missing, duplicate or malformed selector; no record).
fn select(state: &SimState, world: &mut World, input: &Input) -> Result<usize, Reply> {
    let Some(type_name) = input.param("type_name").filter(|t| !t.is_empty()) else {
        return Err(missing(world, "type_name"));
    };
    if type_name != "user" {
        let description = format!("unknown entity type: {type_name}");
        return Err(refuse(world, 222, "unknown_entity_type", &description));
    }
    let given: Vec<&str> = ["id", "uuid", "key_attribute"]
        .into_iter()
        .filter(|k| input.params.contains_key(*k))
        .collect();
    if given.len() > 1 {
        let mut body = error_body(
            world,
            201,
            "duplicate_argument",
            "give only one of id, uuid and key_attribute",
        );
        body["argument_name"] = json!(given[1]);
        return Err(reply(&body));
    }
    let janrain = state.config.janrain.connection.as_str();
    let found = match given.first().copied() {
        None => return Err(missing(world, "id")),
        Some("id") => {
            let text = input.param("id").unwrap_or_default();
            let Ok(id) = text.trim().parse::<u64>() else {
                return Err(invalid_argument(world, 200, "id", "id must be an integer"));
            };
            world
                .users
                .iter()
                .position(|u| u.connection == janrain && u.entity_id == id)
        }
        Some("uuid") => {
            let uuid = input.param("uuid").unwrap_or_default();
            world
                .users
                .iter()
                .position(|u| u.connection == janrain && u.user_id == uuid)
        }
        Some(_) => {
            let attribute = input.param("key_attribute").unwrap_or_default();
            if attribute != "email" {
                let description = format!("{attribute} is not a unique attribute of user");
                return Err(invalid_argument(world, 200, "key_attribute", &description));
            }
            let Some(raw) = input.param("key_value") else {
                return Err(missing(world, "key_value"));
            };
            // key_value is JSON: `"jane@example.com"` with the quotes (spec B3b).
            let Ok(Value::String(email)) = serde_json::from_str::<Value>(&raw) else {
                return Err(invalid_argument(
                    world,
                    200,
                    "key_value",
                    "key_value must be a JSON-encoded string",
                ));
            };
            let email = email.trim().to_lowercase();
            world
                .users
                .iter()
                .position(|u| u.connection == janrain && u.email == email)
        }
    };
    found.ok_or_else(|| refuse(world, 310, "record_not_found", "record not found"))
}

fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    // Capture's format: `2024-05-01 12:00:00.000000 +0000`.
    t.format("%Y-%m-%d %H:%M:%S%.6f %z").to_string()
}

/// The entity as Capture returns it (the password is never returned).
fn entity_json(user: &SimUser) -> Map<String, Value> {
    let verified = user
        .email_verified
        .then(|| timestamp(user.created_at))
        .map_or(Value::Null, Value::String);
    let mut map = Map::new();
    map.insert("id".into(), json!(user.entity_id));
    map.insert("uuid".into(), json!(user.user_id));
    map.insert("email".into(), json!(user.email));
    map.insert("emailVerified".into(), verified);
    map.insert("displayName".into(), json!(user.name));
    // The standard schema has them; the seed does not set them (Capture answers null).
    map.insert("givenName".into(), Value::Null);
    map.insert("familyName".into(), Value::Null);
    map.insert("created".into(), json!(timestamp(user.created_at)));
    map.insert("lastUpdated".into(), json!(timestamp(user.updated_at)));
    map
}

/// `POST /entity`: `{"stat":"ok","result":{…}}`, limited to `attributes` when given.
pub(crate) fn read(state: &SimState, input: &Input) -> Reply {
    let mut world = state.world();
    if let Some(refusal) = authenticate(state, &mut world, input) {
        return refusal;
    }
    let wanted = match input.param("attributes") {
        None => None,
        Some(raw) => match serde_json::from_str::<Vec<String>>(&raw) {
            Ok(names) => Some(names),
            Err(_) => {
                return invalid_argument(
                    &mut world,
                    200,
                    "attributes",
                    "attributes must be a JSON array of attribute names",
                );
            }
        },
    };
    if let Some(unknown) = wanted
        .iter()
        .flatten()
        .find(|n| !READABLE.contains(&n.as_str()) && n.as_str() != PASSWORD)
    {
        let mut body = error_body(
            &mut world,
            223,
            "unknown_attribute",
            &format!("unknown attribute: {unknown}"),
        );
        body["argument_name"] = json!("attributes");
        return reply(&body);
    }
    let index = match select(state, &mut world, input) {
        Ok(index) => index,
        Err(refusal) => return refusal,
    };
    let mut result = entity_json(&world.users[index]);
    if let Some(names) = wanted {
        result.retain(|k, _| names.iter().any(|n| n == k));
    }
    reply(&json!({ "stat": "ok", "result": result }))
}

/// `POST /entity.update` with `attributes='{"password":"…"}'`: sets the password (the one
/// a later sign-in checks), refusing reuse with 352 when the app keeps a history.
pub(crate) fn update(state: &SimState, input: &Input) -> Reply {
    let history_size = state.config.janrain.password_history_size;
    let mut world = state.world();
    if let Some(refusal) = authenticate(state, &mut world, input) {
        return refusal;
    }
    let Some(raw) = input.param("attributes") else {
        return missing(&mut world, "attributes");
    };
    let Ok(Value::Object(attributes)) = serde_json::from_str::<Value>(&raw) else {
        return invalid_argument(
            &mut world,
            200,
            "attributes",
            "attributes must be a JSON object",
        );
    };
    if let Some(other) = attributes.keys().find(|k| k.as_str() != PASSWORD) {
        // Read-only (id, uuid, created…), unknown, or outside what the simulator models.
        let description = format!("attribute {other} cannot be updated here");
        return invalid_argument(&mut world, 200, "attributes", &description);
    }
    let password = match attributes.get(PASSWORD) {
        None => {
            return invalid_argument(&mut world, 200, "attributes", "no attribute to update");
        }
        Some(Value::String(p)) if !p.is_empty() => p.clone(),
        Some(_) => {
            return invalid_argument(
                &mut world,
                200,
                "attributes",
                "password must be a non-empty string",
            );
        }
    };
    let index = match select(state, &mut world, input) {
        Ok(index) => index,
        Err(refusal) => return refusal,
    };
    if world.reuses_password(index, &password, history_size) {
        return refuse(
            &mut world,
            352,
            "password_unacceptable",
            "password is unacceptable",
        );
    }
    world.set_password(index, &password, history_size);
    ok()
}
