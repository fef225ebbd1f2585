//! The control API under `/_sim/`, for tests in other processes: read the call log, the
//! users' state and the mailbox; seed users; inject and clear faults; move the clock.
//!
//! | method | path | effect |
//! |---|---|---|
//! | GET / DELETE | `/_sim/calls` | the recorded calls / forget them |
//! | GET / POST | `/_sim/users` | users' state / seed one user (a `SeedUser` JSON) |
//! | GET / POST / DELETE | `/_sim/faults` | active faults / add one (`Fault` JSON) / clear |
//! | GET / DELETE | `/_sim/mailbox` | emails "sent" / empty the mailbox |
//! | POST | `/_sim/clock` | `{"advance_secs": N}` moves the simulator clock forward |
//! | GET | `/_sim/health` | `{"status":"ok"}` |
//! | GET / PUT | `/_sim/oidc/id_token_fault` | the ID-token fault / `{"fault": "bad_signature"}` sets it, `{"fault": null}` clears it |

use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::SeedUser;
use crate::oidc::IdTokenFault;
use crate::state::{Fault, SimState, UserView};
use crate::wire::{Input, Reply};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OidcFault {
    fault: Option<IdTokenFault>,
}

#[derive(Deserialize)]
struct Advance {
    advance_secs: i64,
}

/// Handles one control request.
pub(crate) fn handle(state: &SimState, input: &Input) -> Reply {
    let body = Value::Object(input.params.clone());
    let bad = |e: serde_json::Error| Reply::json(400, &json!({ "error": e.to_string() }));
    match (input.method.as_str(), input.path.as_str()) {
        ("GET", "/_sim/health") => Reply::json(200, &json!({ "status": "ok" })),
        ("GET", "/_sim/calls") => Reply::json(200, &json!(state.world().calls)),
        ("DELETE", "/_sim/calls") => {
            state.world().calls.clear();
            Reply::json(200, &json!({}))
        }
        ("GET", "/_sim/users") => {
            let users: Vec<UserView> = state.world().users.iter().map(UserView::from).collect();
            Reply::json(200, &json!(users))
        }
        ("POST", "/_sim/users") => match serde_json::from_value::<SeedUser>(body) {
            Ok(seed) => {
                let mut world = state.world();
                let now = world.now();
                world.upsert_user(&state.config, &seed, now);
                Reply::json(201, &json!({}))
            }
            Err(e) => bad(e),
        },
        ("GET", "/_sim/faults") => Reply::json(200, &json!(state.world().faults)),
        ("POST", "/_sim/faults") => match serde_json::from_value::<Fault>(body) {
            Ok(fault) => {
                state.world().faults.push(fault);
                Reply::json(201, &json!({}))
            }
            Err(e) => bad(e),
        },
        ("DELETE", "/_sim/faults") => {
            state.world().faults.clear();
            Reply::json(200, &json!({}))
        }
        ("GET", "/_sim/mailbox") => Reply::json(200, &json!(state.world().mailbox)),
        ("DELETE", "/_sim/mailbox") => {
            state.world().mailbox.clear();
            Reply::json(200, &json!({}))
        }
        ("POST", "/_sim/clock") => match serde_json::from_value::<Advance>(body) {
            Ok(advance) => {
                state.world().clock_offset += chrono::Duration::seconds(advance.advance_secs);
                Reply::json(200, &json!({ "now": state.now() }))
            }
            Err(e) => bad(e),
        },
        ("GET", "/_sim/oidc/id_token_fault") => {
            Reply::json(200, &json!({ "fault": state.world().oidc_fault }))
        }
        ("PUT", "/_sim/oidc/id_token_fault") => match serde_json::from_value::<OidcFault>(body) {
            Ok(OidcFault { fault }) => {
                state.world().oidc_fault = fault;
                Reply::json(200, &json!({ "fault": fault }))
            }
            Err(e) => bad(e),
        },
        _ => Reply::json(404, &json!({ "error": "unknown control endpoint" })),
    }
}
