//! Logging for `serve` and `demo`: text for people or JSON lines for collectors, filtered by
//! `RUST_LOG` when set, otherwise by [`DEFAULT_FILTER`] (which keeps sqlx's per-statement
//! INFO lines out). The security-event metrics layer rides on the same subscriber.
//!
//! Nothing here masks secrets: the code that logs never passes them (secrets live in
//! `SecretString`, whose `Debug` is redacted), and a test scans a full reset's output at
//! `RUST_LOG=trace` to prove it.

use std::str::FromStr;

use passgate_engine::SECURITY_TARGET;
use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

use crate::instruments::SecurityEventMetrics;

/// The filter when `RUST_LOG` is unset: our crates and security events at INFO, everything
/// else at WARN (sqlx logs every statement at INFO).
pub const DEFAULT_FILTER: &str = "warn,passgate=info,passgate_engine=info,passgate_web=info,\
passgate_routing=info,passgate_store=info,passgate::security=info,poem=warn,sqlx=warn";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line (for log collectors).
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(format!(
                "unknown log format {other:?} (expected text or json)"
            )),
        }
    }
}

/// Libraries that log whole documents at DEBUG/TRACE: the HTML and CSS parsers behind mail
/// rendering echo every email, reset link included. They stay off whatever `RUST_LOG` says
/// (security item 56); nothing they say is needed to operate Passgate.
pub const ALWAYS_OFF: &[&str] = &[
    "html5ever",
    "markup5ever",
    "selectors",
    "cssparser",
    "css_inline",
];

/// Installs the global subscriber (stderr). A second call is a no-op, so tests may call it.
pub fn init(format: LogFormat) {
    let mut filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    for target in ALWAYS_OFF {
        if let Ok(directive) = format!("{target}=off").parse() {
            filter = filter.add_directive(directive);
        }
    }
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt = match format {
        LogFormat::Text => fmt.with_ansi(false).boxed(),
        LogFormat::Json => fmt.json().flatten_event(true).boxed(),
    };
    let _ = tracing_subscriber::registry()
        .with(
            SecurityEventMetrics
                .with_filter(Targets::new().with_target(SECURITY_TARGET, Level::INFO)),
        )
        .with(fmt.with_filter(filter))
        .try_init();
}
