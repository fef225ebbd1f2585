//! The simulator seen from outside, in one binary: its wire contract and control API,
//! Auth0's official Python SDK against it, what production refuses, the hosted
//! change-password page. Each former `tests/<name>.rs` is the module `<name>`.

mod control;
mod migration;
mod official_sdk;
mod oidc;
mod production;
mod reset_page;
mod support;
