//! The simulator's seed: users, Auth0 clients and connections (with their password
//! policies), and the Janrain application. Loaded from YAML or JSON; every section has
//! defaults so a file with only `users:` works.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::SimError;
use crate::oidc::OidcSettings;
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
    /// Seeded users (Auth0 and Janrain alike; the connection says which, so a user in both
    /// providers is the same email twice, once per connection).
    #[serde(default)]
    pub users: Vec<SeedUser>,
    /// The OpenID Connect issuer at `/oidc` (its clients and people); absent, no issuer.
    #[serde(default)]
    pub oidc: Option<OidcSettings>,
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
    /// Extra accepted audiences besides the Management API identifier (APIs the tenant
    /// defined itself).
    #[serde(default)]
    pub audiences: Vec<String>,
    /// The canonical tenant domain (`acme.eu.auth0.com`): the Management API identifier is
    /// `https://{canonical_domain}/api/v2/` whatever host the request reached, even though the
    /// simulator serves plain http. `None` uses the bound `127.0.0.1:PORT`.
    #[serde(default)]
    pub canonical_domain: Option<String>,
    /// Verified custom domains (`login.acme.com`). Not audiences ("Service not found"); with
    /// more than one, tickets need the `auth0-custom-domain` header (409 otherwise).
    #[serde(default)]
    pub custom_domains: Vec<String>,
    /// The subscription: which Management API limits apply and whether session endpoints
    /// exist (Enterprise only).
    #[serde(default)]
    pub plan: Plan,
    /// Which Universal Login experience hosts the reset page: Classic honours a ticket's
    /// `result_url`, New ignores it and returns through the ticket's application.
    #[serde(default)]
    pub universal_login: UniversalLogin,
    /// Enforce the plan's rate limits (real 429s). Off only for a test that needs it.
    #[serde(default = "yes")]
    pub rate_limits: bool,
    /// Overrides the plan's Management API sustained rate (requests per second).
    #[serde(default)]
    pub management_rps: Option<f64>,
    /// Overrides the plan's Management API burst (bucket size).
    #[serde(default)]
    pub management_burst: Option<u32>,
}

/// An Auth0 subscription plan (spec D6, D7).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    /// Free: Management API 2 requests/s; no session endpoints.
    Free,
    /// Paid self-service: ~15 rps sustained with bursts; no session endpoints.
    #[default]
    SelfService,
    /// Enterprise: higher limits and the session / refresh-token endpoints.
    Enterprise,
}

/// The Universal Login experience (spec D3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UniversalLogin {
    /// New Universal Login (Auth0's default for new tenants): `result_url` is ignored.
    #[default]
    New,
    /// Classic Universal Login: after the change the page redirects to `result_url`.
    Classic,
}

impl Default for Auth0Settings {
    fn default() -> Self {
        Self {
            clients: default_clients(),
            connections: default_connections(),
            token_ttl_secs: default_token_ttl(),
            audiences: Vec::new(),
            canonical_domain: None,
            custom_domains: Vec::new(),
            plan: Plan::default(),
            universal_login: UniversalLogin::default(),
            rate_limits: true,
            management_rps: None,
            management_burst: None,
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
    /// Database connections enabled for this application (`/dbconnections/change_password`
    /// refuses the others). Unused for Janrain clients.
    #[serde(default)]
    pub enabled_connections: Vec<String>,
    /// The application's login route (`initiate_login_uri`): where New Universal Login
    /// sends the user after a ticket names this application.
    #[serde(default)]
    pub login_uri: Option<String>,
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
    /// API clients (`client_id`, `client_secret`). `scopes` holds the client's features:
    /// `owner` or `direct_access` opens `/entity` and `/entity.update`; a client without
    /// either (a login client) is refused there with 403 `client_permission_error`.
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
    /// The app-wide `password_recover_url` setting: Capture builds the mailed link from it
    /// and appends `code=`, whatever `redirect_uri` the request carries (spec J-D1). A client
    /// with neither this nor an entry in `client_password_recover_urls` cannot send the mail
    /// (the simulator answers an error rather than inventing a link).
    #[serde(default)]
    pub password_recover_url: Option<String>,
    /// Per-client overrides of `password_recover_url`, by `client_id` (Capture settings are
    /// app-wide with per-client overrides).
    #[serde(default)]
    pub client_password_recover_urls: std::collections::BTreeMap<String, String>,
    /// The flow name `flow` must carry (required on the native endpoints).
    #[serde(default = "default_janrain_flow")]
    pub flow: String,
    /// The published flow version; `flow_version` must equal it (or `HEAD`, see below).
    #[serde(default = "default_janrain_flow_version")]
    pub flow_version: String,
    /// Whether `flow_version=HEAD` is accepted [UNCONFIRMED on real Capture].
    #[serde(default = "yes")]
    pub accept_head_flow_version: bool,
    /// How an unknown or reused code is answered at `/oauth/token`.
    #[serde(default)]
    pub code_error_shape: CodeErrorShape,
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
            client_password_recover_urls: std::collections::BTreeMap::new(),
            flow: default_janrain_flow(),
            flow_version: default_janrain_flow_version(),
            accept_head_flow_version: true,
            code_error_shape: CodeErrorShape::default(),
            code_ttl_secs: default_code_ttl(),
            token_ttl_secs: default_janrain_token_ttl(),
            min_password_length: default_janrain_min_length(),
            password_history_size: 0,
        }
    }
}

/// The two documented Janrain answers to a bad authorization code (spec B2, J-D3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeErrorShape {
    /// `{code:200, error:"invalid_argument", argument_name:"code"}`.
    #[default]
    InvalidArgument,
    /// `{code:200, error:"invalid_request", sub_error:"invalid_argument"}` (no argument name).
    InvalidRequest,
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
/// The default seed's database connection name.
pub const DEFAULT_CONNECTION: &str = "Username-Password-Authentication";

/// The default seed's regular web application (connection enabled, no Management API
/// grant): the `client_id` for `change_password` and New-UL tickets.
pub const DEFAULT_APP_CLIENT: &str = "sim-app";

fn default_clients() -> Vec<SimClient> {
    vec![
        SimClient {
            client_id: "sim-client".into(),
            client_secret: "sim-secret".into(),
            scopes: default_scopes(),
            // The default seed enables the connection for the M2M client too, so a gateway
            // without an application client id still works; production M2M apps usually
            // have no connection (model that with `enabled_connections: []`).
            enabled_connections: vec![DEFAULT_CONNECTION.into()],
            login_uri: None,
        },
        SimClient {
            client_id: DEFAULT_APP_CLIENT.into(),
            client_secret: "sim-app-secret".into(),
            scopes: Vec::new(),
            enabled_connections: vec![DEFAULT_CONNECTION.into()],
            login_uri: Some("https://app.example.com/login".into()),
        },
    ]
}
fn default_janrain_clients() -> Vec<SimClient> {
    let client = |id: &str, secret: &str, scopes: &[&str]| SimClient {
        client_id: id.into(),
        client_secret: secret.into(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        enabled_connections: Vec::new(),
        login_uri: None,
    };
    vec![
        // A login client: the native endpoints, never `/entity*`.
        client("sim-janrain-client", "sim-janrain-secret", &[]),
        // A server client with the `owner` feature: `/entity`, `/entity.update`.
        client(
            DEFAULT_JANRAIN_OWNER,
            "sim-janrain-owner-secret",
            &[JANRAIN_OWNER],
        ),
    ]
}

/// The default seed's Janrain server client (feature `owner`), for `/entity` calls.
pub const DEFAULT_JANRAIN_OWNER: &str = "sim-janrain-owner";

/// The Janrain client features that open the server-side `/entity*` API (spec B3b): a
/// Janrain client's `scopes` must hold one of them.
pub const JANRAIN_OWNER: &str = "owner";
/// See [`JANRAIN_OWNER`].
pub const JANRAIN_DIRECT_ACCESS: &str = "direct_access";

/// The Management API scopes a Janrain → Auth0 move adds to [`PASSGATE_SCOPES`] (issue 19):
/// look the account up, create it. The default seed does not grant them.
pub const MOVE_SCOPES: [&str; 2] = ["read:users", "create:users"];
fn default_janrain_flow() -> String {
    "standard".into()
}
fn default_janrain_flow_version() -> String {
    "20190618143040022299".into()
}
fn default_connection_id() -> String {
    "con_0000000000000001".into()
}
fn default_connections() -> Vec<SimConnection> {
    vec![SimConnection {
        name: DEFAULT_CONNECTION.into(),
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
