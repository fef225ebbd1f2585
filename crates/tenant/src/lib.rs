//! The tenant YAML model: one document per tenant (an app, or a family of apps) holding its
//! look, languages, password policy, reset flow, email and rate limits. This crate parses
//! it safely, fills in defaults, validates it against platform bounds — reporting *every*
//! problem with its key path and `line:column` — compiles its password policy, and
//! generates the JSON Schema editors use for autocompletion.
//!
//! Pure: no I/O, no HTTP, no SQL. Entry point: [`parse_tenant_yaml`].
//!
//! # Layout
//! - [`ids`]: newtypes for tenant and client ids, shared by every crate that names a tenant.
//! - [`values`]: newtypes for colours, locale tags, theme names, URLs, durations, mailboxes.
//! - [`config`]: the validated [`TenantConfig`] other crates read.
//! - [`error`]: [`Problem`] (path, line, column, message, severity) and [`ConfigErrors`].
//! - [`limits`]: every platform bound and parser cap, in one place.
//! - [`provider_fit`]: which reset modes run on which provider ([`check_mode_fits`]).
//! - `raw`: the YAML as written (`deny_unknown_fields`); also the source of the JSON Schema.
//! - `positions`: key path → `line:column`, from a second walk over the YAML events.
//! - `keys`: every unknown key at once, checked against the JSON Schema; `suggest` offers
//!   the closest known name.
//! - `validate`: raw → validated, collecting all problems; `css` screens custom CSS,
//!   `contrast` checks colour contrast, `messages` the locales and message overrides,
//!   `policy` the password rules.
//! - `compile`: the call into `passgate_policy` that compiles regexes and the script.
//! - `parse`: the pipeline, parser options and caps.
//! - `schema`: [`json_schema`].

pub mod config;
pub mod error;
pub mod ids;
pub mod limits;
pub mod provider_fit;
pub mod values;

mod compile;
mod keys;
mod parse;
mod positions;
mod raw;
mod schema;
mod suggest;
mod validate;

pub use compile::CompiledPolicy;
pub use config::{
    Branding, Delivery, EmailSettings, Locales, RateLimits, ResetMode, ResetSettings, TenantConfig,
};
pub use error::{ConfigErrors, Problem, Severity, ValueError};
pub use ids::{ClientId, IdError, TenantId};
pub use parse::{ValidatedTenant, parse_tenant_yaml, parse_tenant_yaml_for};
pub use provider_fit::{ModeMismatch, ProviderFamily, check_mode_fits, declared_reset_mode};
pub use schema::{json_schema, json_schema_string};
pub use values::{HexColor, LocaleTag, LogoUrl, Mailbox, RedirectUri, ThemeName, TokenTtl};
