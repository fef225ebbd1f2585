//! The simulator's seed: users, Auth0 clients and connections (with their password
//! policies), and the Janrain application. Loaded from YAML or JSON; every section has
//! defaults so a file with only `users:` works.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::SimError;
use crate::policy::PolicyLevel;

/// Everything the simulator starts with.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SimConfig {
    /// Auth0 tenant settings.
    #[serde(default)]
    pub auth0: Auth0Settings,
    /// Janrain application settings.
    #[serde(default)]
    pub janrain: JanrainSettings,
    /// Seeded users (Auth0 and Janrain alike; the connection says which).
    #[serde(default)]
    pub users: Vec<SeedUser>,
}

impl SimConfig {
    /// Reads a YAML (`.yaml`/`.yml`) or JSON file.
    pub fn from_file(path: &Path) -> Result<Self, SimError> {
        let text = std::fs::read_to_string(path).map_err(|e| SimError::Config {
            reason: format!("{}: {e}", path.display()),
        })?;
        let is_json = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
        if is_json {
            Self::from_json(&text)
        } else {
            Self::from_yaml(&text)
        }
        .map_err(|e| SimError::Config {
            reason: format!("{}: {e}", path.display()),
        })
    }

    /// Parses YAML (YAML 1.2 booleans, duplicate keys rejected).
    pub fn from_yaml(text: &str) -> Result<Self, SimError> {
        let options = serde_saphyr::options! { strict_booleans: true };
        serde_saphyr::from_str_with_options(text, options).map_err(|e| SimError::Config {
            reason: e.to_string(),
        })
    }

    /// Parses JSON.
    pub fn from_json(text: &str) -> Result<Self, SimError> {
        serde_json::from_str(text).map_err(|e| SimError::Config {
            reason: e.to_string(),
        })
    }
}

/// The Auth0 side: machine-to-machine clients and database connections.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Auth0Settings {
    /// Applications allowed to get Management API tokens.
    #[serde(default = "default_clients")]
    pub clients: Vec<SimClient>,
    /// Database connections.
    #[serde(default = "default_connections")]
    pub connections: Vec<SimConnection>,
    /// Management API token lifetime (Auth0's default is 24 h).
    #[serde(default = "default_token_ttl")]
    pub token_ttl_secs: u64,
    /// Extra accepted audiences besides `{base_url}/api/v2/`.
    #[serde(default)]
    pub audiences: Vec<String>,
}

impl Default for Auth0Settings {
    fn default() -> Self {
        Self {
            clients: default_clients(),
            connections: default_connections(),
            token_ttl_secs: default_token_ttl(),
            audiences: Vec::new(),
        }
    }
}

/// A machine-to-machine application and the scopes its client grant gives.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SimClient {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret` (test data, not a real secret).
    pub client_secret: String,
    /// Granted Management API scopes.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
}

/// An Auth0 database connection and its password options (spec A8).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SimConnection {
    /// Connection name, e.g. `Username-Password-Authentication`.
    pub name: String,
    /// Connection id, `con_` + 16 alphanumerics.
    #[serde(default = "default_connection_id")]
    pub id: String,
    /// `options.passwordPolicy`.
    #[serde(default)]
    pub password_policy: PolicyLevel,
    /// `options.password_complexity_options.min_length`, overriding the level's minimum.
    #[serde(default)]
    pub min_length: Option<usize>,
    /// `options.password_history.size`; 0 disables the history check.
    #[serde(default)]
    pub password_history_size: usize,
    /// `options.password_dictionary.enable` (built-in list plus `dictionary`).
    #[serde(default)]
    pub password_dictionary: bool,
    /// Custom dictionary entries (case-insensitive).
    #[serde(default)]
    pub dictionary: Vec<String>,
    /// `options.password_no_personal_info.enable`.
    #[serde(default)]
    pub password_no_personal_info: bool,
}

/// The Janrain (Capture) application.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JanrainSettings {
    /// API clients (`client_id`, `client_secret`; scopes are ignored).
    #[serde(default = "default_janrain_clients")]
    pub clients: Vec<SimClient>,
    /// The connection name that marks a seeded user as a Janrain user.
    #[serde(default = "default_janrain_connection")]
    pub connection: String,
    /// Forgot-password form name.
    #[serde(default = "default_forgot_form")]
    pub forgot_password_form: String,
    /// Email field of that form.
    #[serde(default = "default_email_field")]
    pub email_field: String,
    /// Reset-by-link form name.
    #[serde(default = "default_change_form")]
    pub change_password_form: String,
    /// The client setting `password_recover_url`; `None` uses the request's `redirect_uri`.
    #[serde(default)]
    pub password_recover_url: Option<String>,
    /// `recover_code_lifetime`, seconds.
    #[serde(default = "default_code_ttl")]
    pub code_ttl_secs: u64,
    /// Access-token lifetime (Capture's default is one hour).
    #[serde(default = "default_janrain_token_ttl")]
    pub token_ttl_secs: u64,
    /// Flow rule: minimum new-password length.
    #[serde(default = "default_janrain_min_length")]
    pub min_password_length: usize,
    /// Previous passwords refused (code 214); 0 disables.
    #[serde(default)]
    pub password_history_size: usize,
}

impl Default for JanrainSettings {
    fn default() -> Self {
        Self {
            clients: default_janrain_clients(),
            connection: default_janrain_connection(),
            forgot_password_form: default_forgot_form(),
            email_field: default_email_field(),
            change_password_form: default_change_form(),
            password_recover_url: None,
            code_ttl_secs: default_code_ttl(),
            token_ttl_secs: default_janrain_token_ttl(),
            min_password_length: default_janrain_min_length(),
            password_history_size: 0,
        }
    }
}

/// A user to seed.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeedUser {
    /// Email (stored lowercased, as Auth0 does for database users).
    pub email: String,
    /// Provider user id; generated (`auth0|…` or a UUID-like id) when absent.
    #[serde(default)]
    pub user_id: Option<String>,
    /// Connection name; the first Auth0 connection when absent.
    #[serde(default)]
    pub connection: Option<String>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Blocked users still exist; the gateway decides what to do with them.
    #[serde(default)]
    pub blocked: bool,
    /// Whether the email is verified.
    #[serde(default = "yes")]
    pub email_verified: bool,
    /// Current password (hashed at load; absent means "no password yet").
    #[serde(default)]
    pub password: Option<String>,
}

fn yes() -> bool {
    true
}
/// Every Management API scope a Passgate tenant's M2M client uses (look-ups, password
/// changes, tickets, session revocation): what a seeded client is granted by default.
pub const PASSGATE_SCOPES: [&str; 5] = [
    "read:users",
    "update:users",
    "create:user_tickets",
    "delete:sessions",
    "delete:refresh_tokens",
];

/// [`PASSGATE_SCOPES`] as owned strings, for a [`SimClient`].
pub fn passgate_scopes() -> Vec<String> {
    PASSGATE_SCOPES.map(String::from).to_vec()
}

fn default_scopes() -> Vec<String> {
    passgate_scopes()
}
fn default_clients() -> Vec<SimClient> {
    vec![SimClient {
        client_id: "sim-client".into(),
        client_secret: "sim-secret".into(),
        scopes: default_scopes(),
    }]
}
fn default_janrain_clients() -> Vec<SimClient> {
    vec![SimClient {
        client_id: "sim-janrain-client".into(),
        client_secret: "sim-janrain-secret".into(),
        scopes: Vec::new(),
    }]
}
fn default_connection_id() -> String {
    "con_0000000000000001".into()
}
fn default_connections() -> Vec<SimConnection> {
    vec![SimConnection {
        name: "Username-Password-Authentication".into(),
        id: default_connection_id(),
        password_policy: PolicyLevel::Good,
        min_length: None,
        password_history_size: 5,
        password_dictionary: true,
        dictionary: Vec::new(),
        password_no_personal_info: true,
    }]
}
fn default_token_ttl() -> u64 {
    86_400
}
fn default_janrain_connection() -> String {
    "janrain".into()
}
fn default_forgot_form() -> String {
    "forgotPasswordForm".into()
}
fn default_email_field() -> String {
    "signInEmailAddress".into()
}
fn default_change_form() -> String {
    "changePasswordFormNoAuth".into()
}
fn default_code_ttl() -> u64 {
    900
}
fn default_janrain_token_ttl() -> u64 {
    3600
}
fn default_janrain_min_length() -> usize {
    8
}
