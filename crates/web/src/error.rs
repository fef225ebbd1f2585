//! [`WebError`]: the web crate's one error type (startup and wiring; request-time failures
//! become pages or problem+json documents in [`crate::pages`] and [`crate::problem`]).

/// Why the HTTP layer cannot start.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// A tenant's theme does not render in one of its locales; names tenant, locale and key.
    #[error("tenant {tenant}: {message}")]
    TenantTheme {
        /// The tenant id.
        tenant: String,
        /// What failed (from the theme crate: theme, locale and missing keys).
        message: String,
    },
    /// A tenant names a theme that is not installed.
    #[error("tenant {tenant}: theme `{theme}` is not installed")]
    UnknownTheme {
        /// The tenant id.
        tenant: String,
        /// The theme it names.
        theme: String,
    },
}
