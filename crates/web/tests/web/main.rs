//! The web crate's integration tests in one binary (one link of the gateway instead of
//! eleven): the public API and hosted pages in process, the admin API, the startup check,
//! and the headless-browser walk. Each former `tests/<name>.rs` is the module `<name>`, so
//! `cargo test -p passgate-web --test web admin_openapi` runs what `--test admin_openapi` ran.
//! `admin_secrets` stays a binary of its own: it captures logs with a thread's default
//! subscriber, which other tests' events in the same process race (tracing's callsite cache).

mod admin_common;
mod admin_config;
mod admin_flood;
mod admin_limits;
mod admin_mail_grants;
mod admin_openapi;
mod admin_rbac;
mod admin_schemathesis;
mod api;
mod browser;
mod common;
mod console;
mod console_oidc;
mod pages;
mod startup;
