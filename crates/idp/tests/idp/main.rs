//! The provider clients against the simulator, in one binary: the Auth0 and Janrain
//! contracts, the security boundaries, production-shaped tenants. Each former
//! `tests/<name>.rs` is the module `<name>`. `secrets` stays a binary of its own: it captures
//! logs with a thread's default subscriber, which other tests' events in the same process race
//! (tracing's callsite cache).

mod auth0;
mod boundaries;
mod common;
mod janrain;
mod move_to_auth0;
mod production;
