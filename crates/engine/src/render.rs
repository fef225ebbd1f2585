//! [`MailRenderer`]: the seam between the engine and the theme crate. The engine says *which*
//! mail with *which* values; the renderer turns the tenant's theme, branding and messages in
//! the negotiated locale into subject, HTML (CSS inlined) and text.

use std::{collections::BTreeMap, fmt, sync::Arc};

use passgate_tenant::{LocaleTag, TenantConfig};
use passgate_theme::{Branding, Email, EmailContext, Messages, Themes};

use crate::error::EngineError;

/// Which mail, with the values only it carries. Secrets (URL with a token, code) are hidden
/// from `Debug`.
pub enum MailContent {
    /// A link to Passgate's new-password page.
    ResetLink {
        /// The link (configured origin + token).
        url: String,
        /// Minutes until it expires.
        expires_in_minutes: u32,
    },
    /// A code to type into the app or page.
    ResetCode {
        /// The 8 digits.
        code: String,
        /// Minutes until it expires.
        expires_in_minutes: u32,
    },
    /// An Auth0 password-change ticket URL.
    ResetTicket {
        /// The ticket URL.
        url: String,
        /// Minutes until it expires.
        expires_in_minutes: u32,
    },
    /// "Your password was changed": no link, no secret.
    PasswordChanged,
}

impl fmt::Debug for MailContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ResetLink { .. } => "ResetLink(<redacted>)",
            Self::ResetCode { .. } => "ResetCode(<redacted>)",
            Self::ResetTicket { .. } => "ResetTicket(<redacted>)",
            Self::PasswordChanged => "PasswordChanged",
        })
    }
}

/// A rendered mail, ready to seal into the outbox.
#[derive(Clone, PartialEq, Eq)]
pub struct RenderedMail {
    /// One-line subject.
    pub subject: String,
    /// HTML part.
    pub html: String,
    /// Text part.
    pub text: String,
}

impl fmt::Debug for RenderedMail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RenderedMail")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Renders the engine's mails for a tenant.
pub trait MailRenderer: Send + Sync + fmt::Debug {
    /// Renders `content` for `tenant` in `locale` (already negotiated).
    fn render(
        &self,
        tenant: &TenantConfig,
        locale: &LocaleTag,
        content: &MailContent,
        request_id: Option<&str>,
    ) -> Result<RenderedMail, EngineError>;
}

/// The production renderer: the tenant's Tera theme from `passgate_theme`.
#[derive(Debug, Clone)]
pub struct ThemeRenderer {
    themes: Arc<Themes>,
}

impl ThemeRenderer {
    /// Renders with the loaded `themes`.
    pub fn new(themes: Arc<Themes>) -> Self {
        Self { themes }
    }
}

/// The theme crate's branding from the tenant's validated branding.
pub fn theme_branding(tenant: &TenantConfig) -> Branding {
    let b = &tenant.branding;
    Branding {
        primary_color: b.primary_color.as_ref().map(|c| c.as_str().to_owned()),
        background_color: b.background_color.as_ref().map(|c| c.as_str().to_owned()),
        text_color: b.text_color.as_ref().map(|c| c.as_str().to_owned()),
        logo_url: b.logo_url.as_ref().map(|u| u.as_str().to_owned()),
        font_family: b.font_family.clone(),
        custom_css: None, // emails never carry tenant CSS
    }
}

impl MailRenderer for ThemeRenderer {
    fn render(
        &self,
        tenant: &TenantConfig,
        locale: &LocaleTag,
        content: &MailContent,
        request_id: Option<&str>,
    ) -> Result<RenderedMail, EngineError> {
        let overrides: BTreeMap<String, String> =
            tenant.messages.get(locale).cloned().unwrap_or_default();
        let render_err = |e: passgate_theme::ThemeError| EngineError::Render(e.to_string());
        let messages = Messages::new(
            &self.themes,
            tenant.theme.as_str(),
            locale.as_str(),
            overrides,
        )
        .map_err(render_err)?;
        let (email, action_url, code, expires) = match content {
            MailContent::ResetLink {
                url,
                expires_in_minutes,
            } => (
                Email::ResetLink,
                Some(url.clone()),
                None,
                Some(*expires_in_minutes),
            ),
            MailContent::ResetCode {
                code,
                expires_in_minutes,
            } => (
                Email::ResetCode,
                None,
                Some(code.clone()),
                Some(*expires_in_minutes),
            ),
            MailContent::ResetTicket {
                url,
                expires_in_minutes,
            } => (
                Email::ResetTicket,
                Some(url.clone()),
                None,
                Some(*expires_in_minutes),
            ),
            MailContent::PasswordChanged => (Email::PasswordChanged, None, None, None),
        };
        let ctx = EmailContext {
            messages,
            display_name: tenant.display_name.clone(),
            branding: theme_branding(tenant),
            action_url,
            code,
            expires_in_minutes: expires,
            request_id: request_id.map(str::to_owned),
        };
        let rendered = self
            .themes
            .render_email(tenant.theme.as_str(), email, &ctx)
            .map_err(render_err)?;
        // A tenant's own subject line, when it set one for this locale, wins for reset mails.
        let subject = match (content, tenant.email.subject.get(locale)) {
            (MailContent::PasswordChanged, _) | (_, None) => rendered.subject,
            (_, Some(custom)) => custom.chars().filter(|c| !c.is_control()).collect(),
        };
        Ok(RenderedMail {
            subject,
            html: rendered.html,
            text: rendered.text,
        })
    }
}
