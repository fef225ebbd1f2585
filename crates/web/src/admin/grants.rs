//! What a tenant may send mail as and to, granted by platform admins only: the sender
//! domains its `email.from` may use, and the addresses its test emails may go to. A tenant
//! editor is untrusted (design, "Trust boundary"): without these grants it could publish
//! `Northbank Security <security-noreply@northbank.example>` and relay it anywhere.
//!
//! With no domain granted, a tenant may only send as the platform's own sender domain (the
//! domain of `mail_from`), so a new or forgotten tenant is safe by default.

use passgate_engine::email_address::SubmittedEmail;
use passgate_store::{MailGrant, MailGrantRepo, TenantRepo};
use passgate_tenant::{TenantConfig, TenantId};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::auth::{AdminAuth, require_platform_admin};
use super::cases::mail_grants::set_mail_grants;
use super::state::AdminState;
use super::strict::Text;
use super::tags::Tags;
use crate::problem::{AdminError, AdminProblem, Code};

/// Most values one grant list may hold.
const MAX_GRANTS: usize = 50;

/// The domains a tenant's sender may use, with where they come from (for the error text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderRule {
    /// Allowed domains, lowercase.
    pub domains: Vec<String>,
    /// `true` when a platform admin granted them; `false` for the platform-domain default.
    pub granted: bool,
}

impl SenderRule {
    /// The rule for `granted` domains; the platform's sender domain when none were granted.
    pub fn new(granted: Vec<String>, platform_from: &str) -> Self {
        if granted.is_empty() {
            Self {
                domains: vec![domain_of(platform_from)],
                granted: false,
            }
        } else {
            Self {
                domains: granted,
                granted: true,
            }
        }
    }

    /// Why `config`'s sender is refused, or `None` when it is allowed (or absent: the
    /// platform's sender is used then).
    pub fn refusal(&self, config: &TenantConfig) -> Option<String> {
        let from = config.email.from.as_ref()?;
        let domain = domain_of(from.address());
        if self.domains.contains(&domain) {
            return None;
        }
        let allowed = self.domains.join(", ");
        Some(if self.granted {
            format!(
                "the sender domain `{domain}` is not allowed for this tenant; allowed sender \
                 domains: {allowed} (a platform admin grants more with PUT …/sender-domains)"
            )
        } else {
            format!(
                "the sender domain `{domain}` is not allowed: no sender domain is granted to this \
                 tenant, so only the platform's sender domain {allowed} may be used (a platform \
                 admin grants domains with PUT …/sender-domains)"
            )
        })
    }
}

/// The lowercase domain of `Name <local@domain>` or `local@domain`.
pub fn domain_of(mailbox: &str) -> String {
    mailbox
        .rsplit_once('@')
        .map_or(mailbox, |(_, d)| d)
        .trim_end_matches('>')
        .trim()
        .to_ascii_lowercase()
}

/// Loads the sender rule of `tenant`.
pub async fn sender_rule(state: &AdminState, tenant: &TenantId) -> Result<SenderRule, AdminError> {
    let granted = state
        .store()
        .mail_grants(tenant, MailGrant::SenderDomain)
        .await?;
    Ok(SenderRule::new(granted, &state.settings().mail_from))
}

/// A domain as granted: lowercase, a plain host name (no wildcard, no address), or why not.
pub fn normalize_domain(raw: &str) -> Result<String, AdminProblem> {
    let domain = raw.trim().to_ascii_lowercase();
    // The address parser's domain grammar: letters, digits, `-`, at least two labels.
    if SubmittedEmail::parse(&format!("x@{domain}")).is_none() || domain.contains('@') {
        return Err(AdminProblem::from(Code::InvalidSenderDomain.detail(
            format!(
                "`{}` is not a domain name such as mail.example.com (no wildcards, no addresses)",
                raw.escape_default()
            ),
        )));
    }
    Ok(domain)
}

/// Normalises a list of grants (lowercase, sorted, duplicates removed).
fn normalize_all(
    raw: &[Text],
    one: impl Fn(&str) -> Result<String, AdminProblem>,
) -> Result<Vec<String>, AdminProblem> {
    if raw.len() > MAX_GRANTS {
        return Err(AdminProblem::from(
            Code::TooManyGrants.detail(format!("at most {MAX_GRANTS} values")),
        ));
    }
    let mut out = raw.iter().map(|v| one(v)).collect::<Result<Vec<_>, _>>()?;
    out.sort();
    out.dedup();
    Ok(out)
}

fn normalize_recipient(raw: &str) -> Result<String, AdminProblem> {
    SubmittedEmail::parse(raw)
        .map(|e| e.lookup_key())
        .ok_or_else(|| {
            AdminProblem::from(
                Code::InvalidEmail.detail("every recipient must be one plain email address"),
            )
        })
}

/// A tenant's sender domains.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct SenderDomains {
    /// Domains the tenant's `email.from` may use, e.g. `acme-shop.example.com` (exact
    /// match; a subdomain needs its own entry). Empty: only the platform's sender domain.
    #[oai(validator(max_items = 50))]
    pub domains: Vec<Text>,
}

/// A tenant's allowed test-email recipients.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct TestRecipients {
    /// Addresses the tenant's test emails may be sent to (besides the address registered
    /// with the sending API key).
    #[oai(validator(max_items = 50))]
    pub recipients: Vec<Text>,
}

/// Answer of reading or setting sender domains.
#[derive(Debug, ApiResponse)]
pub enum SenderDomainsResponse {
    /// The tenant's sender domains as stored (lowercase, sorted).
    #[oai(status = 200)]
    Ok(Json<SenderDomains>),
}

/// Answer of reading or setting test recipients.
#[derive(Debug, ApiResponse)]
pub enum TestRecipientsResponse {
    /// The tenant's allowed test recipients as stored (lowercase, sorted).
    #[oai(status = 200)]
    Ok(Json<TestRecipients>),
}

/// Mail grants of a tenant (platform admins).
#[derive(Debug)]
pub struct GrantsApi;

fn texts(values: Vec<String>) -> Vec<Text> {
    values.into_iter().map(Text).collect()
}

/// The tenant id in a path; 404 when it cannot be one (the write's use case checks that the
/// tenant exists).
fn tenant_id(raw: &str) -> Result<TenantId, AdminProblem> {
    TenantId::parse(raw).map_err(|_| AdminProblem::not_found("tenant"))
}

/// The tenant's id, or 404 when it does not exist.
async fn existing(state: &AdminState, raw: &str) -> Result<TenantId, AdminProblem> {
    let id = tenant_id(raw)?;
    if state.store().tenant(&id).await?.is_none() {
        return Err(AdminProblem::not_found("tenant"));
    }
    Ok(id)
}

#[OpenApi(prefix_path = "/tenants", tag = "Tags::Tenants")]
impl GrantsApi {
    /// Get a tenant's sender domains
    #[oai(
        path = "/:tenant/sender-domains",
        method = "get",
        operation_id = "getSenderDomains"
    )]
    async fn get_sender_domains(
        &self,
        auth: AdminAuth,
        state: Data<&AdminState>,
        /// Tenant id.
        tenant: Path<String>,
    ) -> Result<SenderDomainsResponse, AdminProblem> {
        let state = *state;
        require_platform_admin(state, &auth.0, "getSenderDomains").await?;
        let id = existing(state, &tenant.0).await?;
        let domains = state
            .store()
            .mail_grants(&id, MailGrant::SenderDomain)
            .await?;
        Ok(SenderDomainsResponse::Ok(Json(SenderDomains {
            domains: texts(domains),
        })))
    }

    /// Set a tenant's sender domains
    ///
    /// Replaces the list. A config whose `email.from` is outside it is refused from now
    /// on (the active version keeps serving until the next write).
    #[oai(
        path = "/:tenant/sender-domains",
        method = "put",
        operation_id = "setSenderDomains"
    )]
    async fn set_sender_domains(
        &self,
        auth: AdminAuth,
        state: Data<&AdminState>,
        /// Tenant id.
        tenant: Path<String>,
        body: Json<SenderDomains>,
    ) -> Result<SenderDomainsResponse, AdminProblem> {
        let state = *state;
        require_platform_admin(state, &auth.0, "setSenderDomains").await?;
        let id = tenant_id(&tenant.0)?;
        let domains = normalize_all(&body.0.domains, normalize_domain)?;
        set_mail_grants(state, &auth.0, &id, MailGrant::SenderDomain, &domains).await?;
        Ok(SenderDomainsResponse::Ok(Json(SenderDomains {
            domains: texts(domains),
        })))
    }

    /// Get a tenant's allowed test recipients
    #[oai(
        path = "/:tenant/test-recipients",
        method = "get",
        operation_id = "getTestRecipients"
    )]
    async fn get_test_recipients(
        &self,
        auth: AdminAuth,
        state: Data<&AdminState>,
        /// Tenant id.
        tenant: Path<String>,
    ) -> Result<TestRecipientsResponse, AdminProblem> {
        let state = *state;
        require_platform_admin(state, &auth.0, "getTestRecipients").await?;
        let id = existing(state, &tenant.0).await?;
        let recipients = state
            .store()
            .mail_grants(&id, MailGrant::TestRecipient)
            .await?;
        Ok(TestRecipientsResponse::Ok(Json(TestRecipients {
            recipients: texts(recipients),
        })))
    }

    /// Set a tenant's allowed test recipients
    ///
    /// Replaces the list. `POST …/test-email` sends only to these addresses or to the
    /// address registered with the calling API key.
    #[oai(
        path = "/:tenant/test-recipients",
        method = "put",
        operation_id = "setTestRecipients"
    )]
    async fn set_test_recipients(
        &self,
        auth: AdminAuth,
        state: Data<&AdminState>,
        /// Tenant id.
        tenant: Path<String>,
        body: Json<TestRecipients>,
    ) -> Result<TestRecipientsResponse, AdminProblem> {
        let state = *state;
        require_platform_admin(state, &auth.0, "setTestRecipients").await?;
        let id = tenant_id(&tenant.0)?;
        let recipients = normalize_all(&body.0.recipients, normalize_recipient)?;
        set_mail_grants(state, &auth.0, &id, MailGrant::TestRecipient, &recipients).await?;
        Ok(TestRecipientsResponse::Ok(Json(TestRecipients {
            recipients: texts(recipients),
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_read_from_mailboxes_and_normalised() {
        assert_eq!(
            domain_of("Passgate <no-reply@Mail.Example.COM>"),
            "mail.example.com"
        );
        assert_eq!(domain_of("a@b.example"), "b.example");
        assert_eq!(
            normalize_domain(" Acme.Example ").ok().as_deref(),
            Some("acme.example")
        );
        for bad in [
            "*.acme.example",
            "a@acme.example",
            "localhost",
            "acme..example",
            "",
        ] {
            assert!(normalize_domain(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn with_no_grant_only_the_platform_domain_is_allowed() {
        let rule = SenderRule::new(Vec::new(), "Passgate <no-reply@reset.example.com>");
        assert_eq!(rule.domains, ["reset.example.com"]);
        assert!(!rule.granted);
    }
}
