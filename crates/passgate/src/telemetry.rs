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

/// Text-format fields with every control character escaped (`\n` → `\\n`), so a value a
/// user typed (an email, a header) can never start a forged log line (log injection). The
/// JSON format escapes by construction.
pub fn one_line_fields()
-> impl for<'w> tracing_subscriber::fmt::FormatFields<'w> + Send + Sync + 'static {
    use tracing_subscriber::field::MakeExt as _;
    tracing_subscriber::fmt::format::debug_fn(|writer, field, value| {
        let text = escape_controls(&format!("{value:?}"));
        if field.name() == "message" {
            write!(writer, "{text}")
        } else {
            write!(writer, "{field}={text}")
        }
    })
    .delimited(" ")
}

/// `text` with control characters written as escapes.
fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out
}

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
        LogFormat::Text => fmt.with_ansi(false).fmt_fields(one_line_fields()).boxed(),
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn text_logs_keep_a_typed_newline_inside_one_line() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .fmt_fields(one_line_fields())
            .with_writer(move || writer.clone())
            .finish();
        let typed = "ada@example.com\r\n2026-11-26T00:00:00Z  INFO passgate: admin login ok";
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(email = %typed, header = typed, "request\nreceived");
        });
        let output = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert_eq!(output.lines().count(), 1, "{output}");
        assert!(
            output.contains("email=ada@example.com\\r\\n2026"),
            "{output}"
        );
        assert!(output.contains("request\\nreceived"), "{output}");
        assert!(output.ends_with('\n'));
    }
}
