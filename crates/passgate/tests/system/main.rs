//! The system tests in one binary: the real `passgate` processes (`demo`, `serve`,
//! `idp-sim`), the testbed's SMTP sink and databases, a real browser. Each former
//! `tests/<name>.rs` is the module `<name>`: `cargo test -p passgate --test system faults_`
//! runs the fault suite (with `PASSGATE_FAULT_SUITE=1`), whose groups and the replica test
//! take [`passgate_testkit::process_lock`] so they run alone, as separate binaries did.

mod browser_demo;
mod demo_anywhere;
mod demo_flow;
mod demo_shutdown;
mod faults_concurrency;
mod faults_config;
mod faults_database;
mod faults_mail;
mod faults_provider;
mod readme;
mod replicas;
mod security_http;
mod serve;
mod support;
