//! Themes for Passgate's hosted pages and emails: Tera templates, message catalogs per
//! locale, branding tokens as CSS custom properties, and static CSS/JS.
//!
//! Templates come only from platform-owned files under `themes/`, parsed once at startup
//! with autoescape on; tenant strings (display name, messages, colours, CSS) are data.
//! A theme may omit any template, message or static file: lookups fall back to the
//! `default` theme (templates per file, messages per key in the same locale). A message
//! key found nowhere fails the render, and [`Themes::check_tenant`] renders everything in
//! every supported locale so that failure happens at startup or on a config write.
//!
//! This crate depends on none of Passgate's other crates; the web layer maps the tenant
//! config into [`PageContext`], [`EmailContext`], [`Branding`] and [`Messages`].
//!
//! # Layout
//! - [`themes`]: [`Themes::builtin`], [`Themes::load`], per-theme Tera instances with default
//!   fallback, assets.
//! - `builtin`: the shipped themes, compiled in (`include_bytes!`).
//! - [`messages`]: catalogs, [`Messages`] (overrides → theme → default), placeholders.
//! - [`render`]: [`Themes::render_page`], [`Themes::render_email`], the `t()` function.
//! - [`check`]: [`Themes::check_tenant`], [`Themes::message_keys`], [`POLICY_KEYS`].
//! - [`context`]: the plain input structs ([`Page`], [`Email`], contexts, results).
//! - [`branding`]: [`Branding`] and its sanitized CSS.
//! - `policy_view`: the live-validation payload embedded in the new-password page.
//! - [`error`]: [`ThemeError`], [`MissingMessage`].

pub mod branding;
mod builtin;
pub mod check;
pub mod context;
pub mod error;
pub mod messages;
mod policy_view;
pub mod render;
pub mod themes;

pub use branding::Branding;
pub use check::POLICY_KEYS;
pub use context::{Email, EmailContext, FieldError, HiddenField, Page, PageContext, RenderedEmail};
pub use error::{MissingMessage, ThemeError};
pub use messages::{MessageSource, Messages};
pub use themes::{Asset, DEFAULT_THEME, Themes};
