//! What the database, configuration and replica scenarios
//! (`crates/passgate/tests/{faults_database,faults_config,replicas}.rs`) share: background
//! reads of a tenant's pages, a policy value as a replica serves it, and a bounded poll that
//! measures how long a change took to show.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::client::ResetClient;
use crate::load::{RequestMaker, RequestSpec};

/// Reads of `client_id`'s hosted request page and policy JSON, alternately, from `ip`.
pub fn page_and_policy_reads(client_id: &str, ip: &str) -> RequestMaker {
    let (page, policy) = (
        format!("/reset?client_id={client_id}"),
        format!("/v1/apps/{client_id}/password-policy"),
    );
    let ip = ip.to_owned();
    std::sync::Arc::new(move |n| {
        RequestSpec::get(if n % 2 == 0 { &page } else { &policy }, ip.as_str())
    })
}

/// `policy.<field>` of `client_id`'s policy JSON as `client`'s replica serves it (`Null` when
/// there is no answer).
pub fn policy_field(client: &ResetClient, client_id: &str, field: &str) -> Value {
    client
        .policy(client_id)
        .map_or(Value::Null, |a| a.json["policy"][field].clone())
}

/// Polls `check` every 10 ms until it is true or `limit` passed; how long it took when it
/// became true.
pub fn time_until(limit: Duration, mut check: impl FnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    loop {
        if check() {
            return Some(started.elapsed());
        }
        if started.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
