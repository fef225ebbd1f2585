//! [`AdminState`]: what the admin handlers share (store, routing cache, master keys, themes,
//! clock, mailer), and the helpers every handler uses (time, audit, cache invalidation).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use passgate_engine::mail::MailTransport;
use passgate_engine::{Clock, Keyring, SECURITY_TARGET};
use passgate_routing::Router;
use passgate_store::{AuditRepo, NewAuditEvent, Store, Timestamp};
use passgate_tenant::TenantId;
use passgate_theme::Themes;
use serde_json::Value;

use super::auth::Principal;
use super::checks::{DocumentChecks, default_slots};

/// Admin API settings.
#[derive(Debug, Clone)]
pub struct AdminSettings {
    /// Serve Swagger UI at `/admin/docs`. Turn off in production profiles that must expose
    /// no documentation UI (the JSON spec stays, since clients and tooling need it).
    pub swagger_ui: bool,
    /// Test emails each tenant may send per hour (shared by every replica through the store).
    pub test_emails_per_hour: u32,
    /// Sender of test emails when the draft names none (`Name <address>`).
    pub mail_from: String,
    /// The public origin of the gateway (e.g. `https://reset.example.com`), used in preview
    /// links and as the spec's server URL.
    pub public_origin: String,
    /// Provider hosts allowed besides the platform domains (custom domains; loopback only
    /// for tests and the demo against the simulator).
    pub provider_hosts: passgate_idp::HostPolicy,
    /// Requests each API key may make per minute (shared by every replica).
    pub requests_per_minute: u32,
    /// Of those, expensive ones (create tenant, write, validate, activate, preview, test
    /// email) per key per minute: each may compile a tenant's script or send mail.
    pub expensive_requests_per_minute: u32,
    /// Tenant documents checked at once in this process; 0 means cores − 1 (at least 1),
    /// so admin work never occupies every core.
    pub document_checks: usize,
    /// How long a document check waits for a free slot before the request gets 503.
    pub document_check_wait: Duration,
    /// `/console` session timeouts (idle 30 minutes, absolute 12 hours).
    pub console: crate::console::ConsoleSettings,
    /// Console sign-in through the company's OIDC provider; `None`: admin keys only.
    pub console_oidc: Option<Arc<crate::console::ConsoleOidc>>,
}

impl Default for AdminSettings {
    fn default() -> Self {
        Self {
            swagger_ui: true,
            test_emails_per_hour: 10,
            mail_from: "Passgate <no-reply@localhost>".into(),
            public_origin: "http://localhost:8080".into(),
            provider_hosts: passgate_idp::HostPolicy::default(),
            requests_per_minute: 120,
            expensive_requests_per_minute: 20,
            document_checks: 0,
            document_check_wait: Duration::from_secs(2),
            console: crate::console::ConsoleSettings::default(),
            console_oidc: None,
        }
    }
}

/// Everything the admin API is built from.
pub struct AdminParts {
    /// Tenants, versions, keys, audit.
    pub store: Store,
    /// This process's routing cache, invalidated on every write (the store's hooks and, on
    /// PostgreSQL, `NOTIFY` cover other routers and replicas).
    pub router: Option<Router>,
    /// Master keys that seal provider secrets (AES-256-GCM).
    pub keyring: Keyring,
    /// Loaded themes, for validation and previews.
    pub themes: Arc<Themes>,
    /// Time as an input.
    pub clock: Arc<dyn Clock>,
    /// Sends test emails.
    pub mailer: Arc<dyn MailTransport>,
    /// Settings.
    pub settings: AdminSettings,
}

impl fmt::Debug for AdminParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminParts")
            .field("store", &self.store)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Shared state of the admin API. Cheap to clone.
#[derive(Clone)]
pub struct AdminState {
    inner: Arc<Inner>,
}

struct Inner {
    parts: AdminParts,
    /// Slots of the blocking pool tenant documents are checked in.
    checks: DocumentChecks,
}

impl fmt::Debug for AdminState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminState")
            .field("parts", &self.inner.parts)
            .finish()
    }
}

impl AdminState {
    /// Builds the state.
    pub fn new(parts: AdminParts) -> Self {
        let slots = match parts.settings.document_checks {
            0 => default_slots(),
            n => n,
        };
        let checks = DocumentChecks::new(slots, parts.settings.document_check_wait);
        Self {
            inner: Arc::new(Inner { parts, checks }),
        }
    }

    /// The slots tenant documents are checked in.
    pub(crate) fn document_checks(&self) -> &DocumentChecks {
        &self.inner.checks
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.parts.store
    }

    /// The master keys.
    pub fn keyring(&self) -> &Keyring {
        &self.inner.parts.keyring
    }

    /// The themes.
    pub fn themes(&self) -> &Arc<Themes> {
        &self.inner.parts.themes
    }

    /// The mailer for test emails.
    pub fn mailer(&self) -> &Arc<dyn MailTransport> {
        &self.inner.parts.mailer
    }

    /// Settings.
    pub fn settings(&self) -> &AdminSettings {
        &self.inner.parts.settings
    }

    /// Now, from the injected clock.
    pub fn now(&self) -> Timestamp {
        self.inner.parts.clock.now()
    }

    /// Drops this process's cached runtime of `tenant` (the store's hooks do too; this also
    /// covers a router that was not attached to this store).
    pub fn invalidate(&self, tenant: &TenantId) {
        if let Some(router) = &self.inner.parts.router {
            router.invalidate(tenant);
        }
    }

    /// After a committed write to `tenant`: its cached config goes (here; other replicas hear
    /// the store's change hook) and the action is audited.
    pub async fn tenant_changed(
        &self,
        principal: &Principal,
        tenant: &TenantId,
        action: &str,
        details: Value,
    ) {
        self.invalidate(tenant);
        self.audit(principal, Some(tenant), action, details).await;
    }

    /// Records a refused request (`admin.access_denied`) under `actor` with `outcome`
    /// (`denied:<reason>`). `details` must hold no secret. A failed write is logged.
    pub async fn audit_denied(
        &self,
        actor: String,
        tenant: Option<TenantId>,
        outcome: String,
        details: Value,
    ) {
        self.record(actor, tenant, super::auth::ACTION_DENIED, outcome, details)
            .await;
    }

    /// Stores one audit event; a failed write is logged, not fatal.
    async fn record(
        &self,
        actor: String,
        tenant_id: Option<TenantId>,
        action: &str,
        outcome: String,
        details: Value,
    ) {
        let event = NewAuditEvent {
            tenant_id,
            actor,
            action: action.to_owned(),
            outcome,
            request_id: None,
            client_id: None,
            details,
            created_at: self.now(),
        };
        if let Err(err) = self.store().append_audit(event).await {
            tracing::warn!(target: "passgate::admin", error = %err, "audit event not stored");
        }
    }

    /// Records a successful admin action: on the security tracing target and in the audit
    /// log. `details` must hold no secret. A failed audit write is logged, not fatal: the
    /// change has already committed.
    pub async fn audit(
        &self,
        principal: &Principal,
        tenant: Option<&TenantId>,
        action: &str,
        details: Value,
    ) {
        tracing::info!(
            target: SECURITY_TARGET,
            actor = %principal.actor(),
            tenant = tenant.map(TenantId::as_str),
            action,
            "admin change"
        );
        self.record(
            principal.actor(),
            tenant.cloned(),
            action,
            "ok".into(),
            details,
        )
        .await;
    }
}
