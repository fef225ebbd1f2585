//! Previews for editors: any hosted page or email of the active version, a stored version
//! or a draft, in any supported locale, rendered by the same themes the gateway serves; and
//! a test email of a draft to one address (rate-limited per tenant, shared by replicas).
//! A test email goes only to an address a platform admin allowed for the tenant
//! (`…/test-recipients`) or to the address registered with the calling key, and only from
//! a sender domain granted to the tenant (checked with the document).
//!
//! Preview HTML is tenant-influenced markup served from the admin origin, so it carries a
//! `sandbox` CSP: no script runs, no form posts, nothing can reach the admin API.

use chrono::TimeDelta;
use passgate_engine::email_address::{SubmittedEmail, mask};
use passgate_engine::mail::OutgoingMail;
use passgate_engine::{MailContent, MailRenderer, ThemeRenderer};
use passgate_store::{
    ClientIdRepo, ConfigVersionRepo, MailGrant, MailGrantRepo, RateBucket, RateLimitRepo,
    TenantRepo,
};
use passgate_tenant::{LocaleTag, TenantConfig, TenantId, ValidatedTenant};
use passgate_theme::{Branding, Messages, Page, PageContext};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::{Html, Json};
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use rand::{TryRng, rngs::SysRng};
use serde_json::json;

use super::auth::{AdminAuth, Principal, owner_email_hash, require_tenant};
use super::checks::validate_for_tenant;
use super::state::AdminState;
use super::strict::Text;
use super::tags::Tags;
use crate::problem::{AdminError, AdminProblem, Code};

/// The CSP of preview responses: styles and images only, in a sandbox.
pub const PREVIEW_CSP: &str = "sandbox; default-src 'none'; style-src 'unsafe-inline' https:; img-src https: data:; font-src https:";

/// Link shown in previewed emails (never a real token).
const SAMPLE_LINK: &str = "https://preview.passgate.invalid/reset#preview";

/// A hosted page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum PageName {
    /// The email form.
    Request,
    /// "Check your inbox".
    Sent,
    /// New password form.
    NewPassword,
    /// Code entry.
    Code,
    /// Password changed.
    Success,
    /// Invalid or expired link.
    InvalidLink,
    /// Generic error.
    Error,
    /// Unknown app or path.
    NotFound,
    /// Too many requests from one client or for the whole app, with when to try again.
    RateLimited,
    /// A `redirect_uri` the app has not allowlisted.
    BadRedirect,
    /// A form left open too long (its CSRF token no longer matches).
    StaleForm,
}

impl From<PageName> for Page {
    fn from(p: PageName) -> Self {
        match p {
            PageName::Request => Page::Request,
            PageName::Sent => Page::Sent,
            PageName::NewPassword => Page::NewPassword,
            PageName::Code => Page::Code,
            PageName::Success => Page::Success,
            PageName::InvalidLink => Page::InvalidLink,
            PageName::Error => Page::Error,
            PageName::NotFound => Page::NotFound,
            PageName::RateLimited => Page::RateLimited,
            PageName::BadRedirect => Page::BadRedirect,
            PageName::StaleForm => Page::StaleForm,
        }
    }
}

/// An email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum EmailName {
    /// Reset link.
    ResetLink,
    /// Reset code.
    ResetCode,
    /// Auth0 ticket link.
    ResetTicket,
    /// "Your password was changed".
    PasswordChanged,
}

impl EmailName {
    fn content(self, minutes: u32) -> MailContent {
        match self {
            Self::ResetLink => MailContent::ResetLink {
                url: SAMPLE_LINK.into(),
                expires_in_minutes: minutes,
            },
            Self::ResetCode => MailContent::ResetCode {
                code: "12345678".into(),
                expires_in_minutes: minutes,
            },
            Self::ResetTicket => MailContent::ResetTicket {
                url: SAMPLE_LINK.into(),
                expires_in_minutes: minutes,
            },
            Self::PasswordChanged => MailContent::PasswordChanged,
        }
    }
}

/// What to preview. Give at most one of `version` and `yaml` (neither: the active version)
/// and exactly one of `page` and `email`.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct PreviewRequest {
    /// A stored version.
    pub version: Option<u32>,
    /// A draft YAML (validated like a write; nothing is stored).
    #[oai(validator(max_length = 262144))]
    pub yaml: Option<Text>,
    /// A hosted page.
    pub page: Option<PageName>,
    /// An email.
    pub email: Option<EmailName>,
    /// A supported locale of the document (default: its default locale).
    #[oai(validator(max_length = 35))]
    pub locale: Option<Text>,
}

/// A test email to send.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct TestEmailRequest {
    /// The recipient.
    #[oai(validator(min_length = 3, max_length = 254))]
    pub to: Text,
    /// A stored version.
    pub version: Option<u32>,
    /// A draft YAML.
    #[oai(validator(max_length = 262144))]
    pub yaml: Option<Text>,
    /// Which email (default `reset_link`).
    pub email: Option<EmailName>,
    /// A supported locale (default: the document's default).
    #[oai(validator(max_length = 35))]
    pub locale: Option<Text>,
}

/// A sent test email.
#[derive(Debug, Clone, Object)]
pub struct TestEmailSent {
    /// Message-ID of the sent mail.
    pub message_id: String,
    /// The recipient, masked.
    pub to: String,
}

/// Answer of a preview.
#[derive(Debug, ApiResponse)]
pub enum PreviewResponse {
    /// The rendered HTML (page, or the email's HTML part); sandboxed by CSP.
    #[oai(status = 200)]
    Ok(
        Html<String>,
        #[oai(header = "Content-Security-Policy")] String,
        /// The email's subject (emails only).
        #[oai(header = "X-Preview-Subject")]
        Option<String>,
    ),
}

/// Answer of sending a test email.
#[derive(Debug, ApiResponse)]
pub enum TestEmailResponse {
    /// The mail server accepted the message.
    #[oai(status = 202)]
    Accepted(Json<TestEmailSent>),
}

/// Previews and test emails (editors of the tenant and platform admins).
#[derive(Debug)]
pub struct PreviewApi;

/// The document to render: a draft (validated), a stored version, or the active one.
async fn source_config(
    state: &AdminState,
    tenant: &TenantId,
    version: Option<u32>,
    yaml: Option<String>,
) -> Result<TenantConfig, AdminProblem> {
    Ok(source_document(state, tenant, version, yaml).await?.config)
}

/// [`source_config`] with its compiled policy.
pub(crate) async fn source_document(
    state: &AdminState,
    tenant: &TenantId,
    version: Option<u32>,
    yaml: Option<String>,
) -> Result<ValidatedTenant, AdminProblem> {
    let store = state.store();
    if store.tenant(tenant).await?.is_none() {
        return Err(AdminProblem::not_found("tenant"));
    }
    let text = match (version, yaml) {
        (Some(_), Some(_)) => {
            return Err(AdminProblem::bad_request(
                "give `version` or `yaml`, not both",
            ));
        }
        (None, Some(draft)) => draft,
        (Some(v), None) => {
            store
                .version(tenant, v)
                .await?
                .ok_or_else(|| AdminProblem::not_found("config version"))?
                .yaml
        }
        (None, None) => {
            store
                .active_version(tenant)
                .await?
                .ok_or_else(|| AdminProblem::not_found("active config"))?
                .yaml
        }
    };
    let registered = store.client_ids(tenant).await?;
    let (validated, _) = validate_for_tenant(state, tenant, registered, text).await?;
    Ok(validated)
}

pub(crate) fn locale_of(
    config: &TenantConfig,
    requested: Option<&str>,
) -> Result<LocaleTag, AdminProblem> {
    let Some(requested) = requested else {
        return Ok(config.locales.default.clone());
    };
    config
        .locales
        .supported
        .iter()
        .find(|l| l.as_str() == requested)
        .cloned()
        .ok_or_else(|| {
            AdminProblem::from(Code::UnsupportedLocale.detail(format!(
                    "supported locales: {}",
                    config
                        .locales
                        .supported
                        .iter()
                        .map(LocaleTag::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
        })
}

fn ttl_minutes(config: &TenantConfig) -> u32 {
    u32::try_from(config.reset.token_ttl.duration().as_secs() / 60).unwrap_or(u32::MAX)
}

fn render_page(
    state: &AdminState,
    config: &TenantConfig,
    locale: &LocaleTag,
    page: Page,
) -> Result<String, AdminError> {
    let themes = state.themes();
    let theme = config.theme.as_str();
    let overrides = config.messages.get(locale).cloned().unwrap_or_default();
    let own = config.messages.get(locale);
    let messages = Messages::new(themes, theme, locale.as_str(), overrides)
        .map_err(|e| AdminError::Render(e.to_string()))?;
    // The new-password page lists the draft's rules, as the live page does.
    let policy = (page == Page::NewPassword)
        .then(|| {
            let payload = crate::policy_view::payload(
                config.policy_spec(),
                &messages,
                config.id.as_str(),
                own,
            );
            serde_json::to_value(payload).ok()
        })
        .flatten();
    let b = &config.branding;
    let ctx = PageContext {
        messages,
        display_name: config.display_name.clone(),
        branding: Branding {
            primary_color: b.primary_color.as_ref().map(|c| c.as_str().to_owned()),
            background_color: b.background_color.as_ref().map(|c| c.as_str().to_owned()),
            text_color: b.text_color.as_ref().map(|c| c.as_str().to_owned()),
            logo_url: b.logo_url.as_ref().map(|u| u.as_str().to_owned()),
            font_family: b.font_family.clone(),
            custom_css: b.custom_css.clone(),
        },
        csp_nonce: "preview".into(),
        csrf_token: "preview".into(),
        form_action: "#".into(),
        restart_url: Some("#".into()),
        continue_url: Some("#".into()),
        // Absolute, so the preview's stylesheets load from the gateway wherever it is viewed.
        static_prefix: format!(
            "{}{}",
            state.settings().public_origin.trim_end_matches('/'),
            crate::state::static_prefix()
        ),
        hidden_fields: Vec::new(),
        email: Some("user@example.com".into()),
        errors: Vec::new(),
        policy,
        request_id: Some("preview".into()),
        retry_at: Some("23:45 UTC".into()),
        secure_origin: state.settings().public_origin.starts_with("https://"),
    };
    themes
        .render_page(theme, page, &ctx)
        .map_err(|e| AdminError::Render(e.to_string()))
}

fn render_email(
    state: &AdminState,
    config: &TenantConfig,
    locale: &LocaleTag,
    email: EmailName,
) -> Result<passgate_engine::RenderedMail, AdminError> {
    ThemeRenderer::new(state.themes().clone())
        .render(
            config,
            locale,
            &email.content(ttl_minutes(config)),
            Some("preview"),
        )
        .map_err(|e| AdminError::Render(e.to_string()))
}

#[OpenApi(tag = "Tags::Preview")]
impl PreviewApi {
    /// Preview a page or email
    ///
    /// Renders a hosted page or an email of the active version, a stored version or a
    /// draft, in a supported locale, and returns the HTML (sandboxed by CSP).
    #[oai(
        path = "/tenants/:tenant/preview",
        method = "post",
        operation_id = "preview"
    )]
    async fn preview(
        &self,
        auth: AdminAuth,
        state: Data<&AdminState>,
        /// Tenant id.
        tenant: Path<String>,
        body: Json<PreviewRequest>,
    ) -> Result<PreviewResponse, AdminProblem> {
        let state = *state;
        let id = require_tenant(state, &auth.0, &tenant.0, "preview").await?;
        let body = body.0;
        let config =
            source_config(state, &id, body.version, body.yaml.map(Text::into_string)).await?;
        let locale = locale_of(&config, body.locale.as_deref().map(String::as_str))?;
        let (html, subject) = match (body.page, body.email) {
            (Some(page), None) => (render_page(state, &config, &locale, page.into())?, None),
            (None, Some(email)) => {
                let mail = render_email(state, &config, &locale, email)?;
                (mail.html, Some(mail.subject))
            }
            _ => {
                return Err(AdminProblem::bad_request(
                    "give exactly one of `page` and `email`",
                ));
            }
        };
        Ok(PreviewResponse::Ok(Html(html), PREVIEW_CSP.into(), subject))
    }

    /// Send a test email
    ///
    /// Renders an email of a draft, stored or active version and sends it to one address:
    /// an allowed test recipient of the tenant or the address registered with the calling
    /// key (otherwise 403 `recipient-not-allowed`). Limited per tenant per hour.
    #[oai(
        path = "/tenants/:tenant/test-email",
        method = "post",
        operation_id = "sendTestEmail"
    )]
    async fn test_email(
        &self,
        auth: AdminAuth,
        state: Data<&AdminState>,
        /// Tenant id.
        tenant: Path<String>,
        body: Json<TestEmailRequest>,
    ) -> Result<TestEmailResponse, AdminProblem> {
        let state = *state;
        let id = require_tenant(state, &auth.0, &tenant.0, "sendTestEmail").await?;
        let body = body.0;
        let to = SubmittedEmail::parse(&body.to).ok_or_else(|| {
            AdminProblem::from(Code::InvalidEmail.detail("`to` must be one plain email address"))
        })?;
        let recipient = to.lookup_key();
        allowed_recipient(state, &auth.0, &id, &recipient).await?;
        let config =
            source_config(state, &id, body.version, body.yaml.map(Text::into_string)).await?;
        let locale = locale_of(&config, body.locale.as_deref().map(String::as_str))?;
        let email = body.email.unwrap_or(EmailName::ResetLink);
        let mail = render_email(state, &config, &locale, email)?;
        let decision = state
            .store()
            .hit(
                &RateBucket {
                    tenant_id: Some(id.clone()),
                    key: "admin:test-email".into(),
                },
                TimeDelta::hours(1),
                state.settings().test_emails_per_hour,
                state.now(),
            )
            .await?;
        if !decision.allowed {
            let wait = decision.resets_at.signed_duration_since(state.now());
            return Err(Code::RateLimited
                .detail(format!(
                    "too many test emails for this tenant; try again after {}",
                    decision.resets_at.to_rfc3339()
                ))
                .retry_after(u64::try_from(wait.num_seconds()).unwrap_or(1))
                .into());
        }
        let mut nonce = [0u8; 16];
        SysRng
            .try_fill_bytes(&mut nonce)
            .map_err(|_| AdminError::Random)?;
        let domain = state
            .settings()
            .mail_from
            .rsplit_once('@')
            .map_or("localhost", |(_, d)| d.trim_end_matches('>'));
        let message_id = format!("test-{}@{domain}", hex_of(&nonce));
        let from = config
            .email
            .from
            .as_ref()
            .map_or_else(|| state.settings().mail_from.clone(), ToString::to_string);
        let outgoing = OutgoingMail {
            from,
            to: recipient.clone(),
            subject: format!("[TEST] {}", mail.subject),
            html: mail.html,
            text: mail.text,
            message_id: message_id.clone(),
        };
        state
            .mailer()
            .send(&outgoing)
            .await
            .map_err(|e| AdminError::Mail(e.to_string()))?;
        state
            .audit(
                &auth.0,
                Some(&id),
                "config.test_email",
                json!({ "to": mask(&recipient), "message_id": message_id, "locale": locale.as_str() }),
            )
            .await;
        Ok(TestEmailResponse::Accepted(Json(TestEmailSent {
            message_id,
            to: mask(&recipient),
        })))
    }
}

/// Refuses a test email to anyone but the tenant's allowed test recipients and the
/// caller's own registered address: a tenant editor must not relay branded mail to
/// arbitrary people.
async fn allowed_recipient(
    state: &AdminState,
    principal: &Principal,
    tenant: &TenantId,
    recipient: &str,
) -> Result<(), AdminProblem> {
    if principal.owner_email_hash == Some(owner_email_hash(recipient)) {
        return Ok(());
    }
    let allowed = state
        .store()
        .mail_grants(tenant, MailGrant::TestRecipient)
        .await?;
    if allowed.iter().any(|a| a == recipient) {
        return Ok(());
    }
    Err(Code::RecipientNotAllowed
        .detail(
            "test emails go only to the tenant's allowed test recipients (set by a platform \
             admin with PUT …/test-recipients) or to the address registered with this API key",
        )
        .into())
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
