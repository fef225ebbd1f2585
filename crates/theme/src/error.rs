//! The crate's one error type and the missing-message report.

use std::fmt;
use std::path::PathBuf;

/// A message key that resolved in no catalog: not in the tenant's overrides, the theme's
/// catalog, nor the `default` theme's catalog for that locale.
///
/// Reported by [`crate::Themes::check_tenant`] (every miss at once) and by a render that
/// hit one, so an operator can fix the YAML without guessing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MissingMessage {
    /// The theme whose templates asked for the key.
    pub theme: String,
    /// The locale the key was looked up in.
    pub locale: String,
    /// The message key, e.g. `request.title`.
    pub key: String,
}

impl fmt::Display for MissingMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "theme `{}`, locale `{}`: no message for key `{}`",
            self.theme, self.locale, self.key
        )
    }
}

/// Everything that can go wrong loading or rendering a theme.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    /// A theme directory or file could not be read at startup.
    #[error("cannot read theme file {path}: {source}")]
    Io {
        /// The file or directory that failed.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The themes directory has no `default` theme, which every lookup falls back to.
    #[error("the themes directory {0} has no `default` theme")]
    NoDefaultTheme(PathBuf),
    /// A theme, folder or file name outside the safe character set (`a-z0-9_-.`).
    #[error("invalid theme file name {0:?}")]
    InvalidName(String),
    /// A message catalog is not a flat YAML map of strings.
    #[error("message catalog {path}: {message}")]
    Catalog {
        /// The catalog file.
        path: PathBuf,
        /// What the YAML parser said.
        message: String,
    },
    /// A template failed to parse (at startup) or to render.
    #[error("theme `{theme}`, template `{template}`: {message}")]
    Template {
        /// The theme being loaded or rendered.
        theme: String,
        /// The template name, e.g. `new_password.html`.
        template: String,
        /// Tera's description of the problem.
        message: String,
    },
    /// The caller named a theme that was not loaded.
    #[error("unknown theme `{0}`")]
    UnknownTheme(String),
    /// Message keys that resolved nowhere; rendering never falls back to the key text.
    #[error("missing messages: {}", join(.0))]
    MissingMessages(Vec<MissingMessage>),
    /// A link, code or ticket URL handed to an email or page is not `https` (or `http` on
    /// loopback for local demos). The value itself is not shown: it may carry a token.
    #[error("the {field} URL is not an https URL")]
    UnsafeUrl {
        /// Which context field held the URL.
        field: &'static str,
    },
    /// CSS inlining of an email failed.
    #[error("inlining the CSS of email `{template}` failed: {message}")]
    Inline {
        /// The email template.
        template: String,
        /// What css-inline said.
        message: String,
    },
}

fn join(missing: &[MissingMessage]) -> String {
    missing
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
