//! Shared setup: a simulator seeded with a few users and clients pointed at it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may panic
#![allow(dead_code)]

use std::time::Duration;

use passgate_idp::{
    Auth0Client, Auth0Config, HostPolicy, HttpConfig, JanrainClient, JanrainConfig, RetryPolicy,
};
use passgate_idp_sim::{
    Auth0Settings, JanrainSettings, Plan, PolicyLevel, SeedUser, SimClient, SimConfig,
    SimConnection, SimHandle, UniversalLogin,
};
use secrecy::SecretString;

pub const CONNECTION: &str = "Username-Password-Authentication";
pub const JANE_ID: &str = "auth0|63d17c4bdf1ce171262c7e93";
pub const CLIENT_SECRET: &str = "sim-secret-0f9e8d7c";
pub const JANRAIN_SECRET: &str = "janrain-secret-1a2b3c";
pub const REDIRECT_URI: &str = "https://app.example.com/reset";

fn user(email: &str, id: Option<&str>, connection: &str, name: Option<&str>) -> SeedUser {
    SeedUser {
        email: email.into(),
        user_id: id.map(String::from),
        connection: Some(connection.into()),
        name: name.map(String::from),
        blocked: false,
        email_verified: true,
        password: Some("Initial-Passw0rd".into()),
    }
}

pub fn sim_config() -> SimConfig {
    let connection = |name: &str, id: &str| SimConnection {
        name: name.into(),
        id: id.into(),
        password_policy: PolicyLevel::Good,
        min_length: None,
        password_history_size: 3,
        password_dictionary: true,
        dictionary: vec!["acme-corp-2026".into()],
        password_no_personal_info: true,
    };
    let client = |id: &str, secret: &str, scopes: &[&str]| SimClient {
        client_id: id.into(),
        client_secret: secret.into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        enabled_connections: vec![CONNECTION.into()],
        login_uri: None,
    };
    let mut blocked = user(
        "bob@example.com",
        Some("auth0|b0b"),
        CONNECTION,
        Some("Bob"),
    );
    blocked.blocked = true;
    SimConfig {
        auth0: Auth0Settings {
            clients: vec![
                client(
                    "sim-client",
                    CLIENT_SECRET,
                    &[
                        "read:users",
                        "update:users",
                        "create:user_tickets",
                        "delete:sessions",
                        "delete:refresh_tokens",
                    ],
                ),
                client("read-only", "read-only-secret", &["read:users"]),
            ],
            connections: vec![
                connection(CONNECTION, "con_0000000000000001"),
                connection("Other-DB", "con_0000000000000002"),
            ],
            // The session endpoints exist only on Enterprise plans.
            plan: Plan::Enterprise,
            universal_login: UniversalLogin::Classic,
            ..Auth0Settings::default()
        },
        janrain: JanrainSettings {
            clients: vec![SimClient {
                client_id: "janrain-client".into(),
                client_secret: JANRAIN_SECRET.into(),
                scopes: Vec::new(),
                enabled_connections: Vec::new(),
                login_uri: None,
            }],
            password_history_size: 2,
            // The API client's setting: the link Capture mails (spec J-D1).
            password_recover_url: Some(REDIRECT_URI.into()),
            ..JanrainSettings::default()
        },
        users: vec![
            user(
                "jane@example.com",
                Some(JANE_ID),
                CONNECTION,
                Some("Jane Doe"),
            ),
            user(
                "jane@example.com",
                Some("auth0|other-jane"),
                "Other-DB",
                Some("Jane Other"),
            ),
            blocked,
            user("jan@example.com", None, "janrain", Some("Jan Rain")),
        ],
        oidc: None,
    }
}

pub async fn sim() -> SimHandle {
    passgate_idp_sim::start(sim_config()).await.unwrap()
}

/// Short timeouts and tiny backoffs so failure paths run quickly.
pub fn fast_http() -> HttpConfig {
    HttpConfig {
        connect_timeout: Duration::from_secs(2),
        total_timeout: Duration::from_secs(2),
        retry: RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
            max_rate_limit_wait: Duration::from_secs(2),
            jitter: true,
        },
    }
}

pub fn loopback() -> HostPolicy {
    HostPolicy {
        allow_insecure_loopback_for_tests: true,
        ..HostPolicy::default()
    }
}

pub fn auth0_config(sim: &SimHandle) -> Auth0Config {
    Auth0Config {
        domain: sim.base_url.clone(),
        client_id: "sim-client".into(),
        client_secret: SecretString::from(CLIENT_SECRET),
        connection: CONNECTION.into(),
        audience: None,
        canonical_domain: None,
        custom_domain: None,
        app_client_id: None,
        new_universal_login: false,
        hosts: loopback(),
        http: fast_http(),
    }
}

pub fn auth0(sim: &SimHandle) -> Auth0Client {
    Auth0Client::new(auth0_config(sim)).unwrap()
}

pub fn janrain_config(sim: &SimHandle) -> JanrainConfig {
    let mut config = JanrainConfig::new(
        sim.janrain_base_url.clone(),
        "janrain-client",
        SecretString::from(JANRAIN_SECRET),
        REDIRECT_URI,
    );
    config.hosts = loopback();
    config.http = fast_http();
    config
}

pub fn janrain(sim: &SimHandle) -> JanrainClient {
    JanrainClient::new(janrain_config(sim)).unwrap()
}

pub fn secret(text: &str) -> SecretString {
    SecretString::from(text)
}

/// How many calls with this method and path prefix the simulator received.
pub fn count_calls(sim: &SimHandle, method: &str, path: &str) -> usize {
    sim.calls()
        .iter()
        .filter(|c| c.method == method && c.path.starts_with(path))
        .count()
}
