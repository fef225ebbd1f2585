//! The small fakes the engine's unit tests run its steps with: a scripted identity provider
//! ([`FakeProvider`]), a renderer that puts the secret in plain text ([`FakeRenderer`]), and a
//! [`Kit`] — an engine on a temporary SQLite file, one tenant, a fixed clock and the
//! in-memory mailbox — whose components the tests hand to single transitions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use passgate_idp::{
    Capabilities, IdentityProvider, IdpError, PasswordChangeTicket, ProviderKind, ProviderUser,
    ResetAuthorization, TicketRequest,
};
use passgate_store::Store;
use passgate_tenant::{ClientId, LocaleTag, TenantConfig, parse_tenant_yaml};
use secrecy::{ExposeSecret, SecretString};

use crate::{
    clock::{Clock, FixedClock},
    engine::{Engine, EngineParts},
    error::EngineError,
    mail::DevMailbox,
    providers::FixedProviders,
    render::{MailContent, MailRenderer, RenderedMail},
    sealing::Keyring,
    settings::EngineSettings,
    tenants::{StaticTenants, TenantRuntime},
};

pub(crate) const PASSWORD: &str = "violet kestrel harbour 1987 lantern";

/// An error to answer once, by operation name.
type Scripted = fn() -> IdpError;

/// A provider with users in memory; each operation can be scripted to fail once.
#[derive(Debug, Default)]
pub(crate) struct FakeProvider {
    users: Mutex<HashMap<String, ProviderUser>>,
    failures: Mutex<HashMap<&'static str, Vec<Scripted>>>,
    calls: Mutex<Vec<&'static str>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FakeProvider {
    /// Adds a user (`auth0|<local part>`) in connection `db`.
    pub(crate) fn with_user(self, email: &str, blocked: bool) -> Self {
        let local = email.split('@').next().unwrap_or(email);
        lock(&self.users).insert(
            email.to_ascii_lowercase(),
            ProviderUser {
                user_id: format!("auth0|{local}"),
                email: email.to_ascii_lowercase(),
                connection: "db".into(),
                name: None,
                blocked,
                email_verified: true,
                last_password_reset: None,
            },
        );
        self
    }

    /// Makes the next call of `operation` fail with `error()`.
    pub(crate) fn fail_next(&self, operation: &'static str, error: Scripted) {
        lock(&self.failures)
            .entry(operation)
            .or_default()
            .push(error);
    }

    /// Changes a user "by another path".
    pub(crate) fn change(&self, email: &str, change: impl FnOnce(&mut ProviderUser)) {
        change(lock(&self.users).get_mut(email).expect("a user"));
    }

    /// How many times `operation` was called.
    pub(crate) fn calls(&self, operation: &str) -> usize {
        lock(&self.calls)
            .iter()
            .filter(|c| **c == operation)
            .count()
    }

    fn call(&self, operation: &'static str) -> Result<(), IdpError> {
        lock(&self.calls).push(operation);
        let mut failures = lock(&self.failures);
        match failures
            .get_mut(operation)
            .and_then(|f| (!f.is_empty()).then(|| f.remove(0)))
        {
            Some(error) => Err(error()),
            None => Ok(()),
        }
    }
}

/// When a fake password change happened.
fn changed_at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_000_500, 0).unwrap()
}

#[async_trait]
impl IdentityProvider for FakeProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Auth0
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            find_user: true,
            set_password: true,
            change_password_ticket: true,
            provider_reset_email: true,
            reset_code: true,
        }
    }

    async fn find_user_by_email(&self, email: &str) -> Result<Option<ProviderUser>, IdpError> {
        self.call("find_user_by_email")?;
        Ok(lock(&self.users).get(&email.to_ascii_lowercase()).cloned())
    }

    async fn set_password(
        &self,
        user_id: &str,
        _password: &SecretString,
    ) -> Result<ProviderUser, IdpError> {
        self.call("set_password")?;
        let mut users = lock(&self.users);
        let user = users
            .values_mut()
            .find(|u| u.user_id == user_id)
            .ok_or(IdpError::NotFound)?;
        user.last_password_reset = Some(changed_at());
        Ok(user.clone())
    }

    async fn revoke_sessions(&self, _user_id: &str) -> Result<(), IdpError> {
        self.call("revoke_sessions")
    }

    async fn create_password_change_ticket(
        &self,
        request: &TicketRequest,
    ) -> Result<PasswordChangeTicket, IdpError> {
        self.call("create_password_change_ticket")?;
        Ok(PasswordChangeTicket {
            url: SecretString::from(format!("https://idp.test/ticket/{}", request.user_id)),
        })
    }

    async fn send_reset_email(&self, email: &str) -> Result<(), IdpError> {
        self.call("send_reset_email")?;
        if lock(&self.users).contains_key(&email.to_ascii_lowercase()) {
            Ok(())
        } else {
            Err(IdpError::NoSuchAccount)
        }
    }

    async fn redeem_reset_code(&self, code: &SecretString) -> Result<ResetAuthorization, IdpError> {
        self.call("redeem_reset_code")?;
        Ok(ResetAuthorization {
            access_token: SecretString::from(format!("at-{}", code.expose_secret())),
            expires_in: std::time::Duration::from_secs(3600),
        })
    }

    async fn set_password_with_authorization(
        &self,
        _authorization: &ResetAuthorization,
        _password: &SecretString,
    ) -> Result<(), IdpError> {
        self.call("set_password_with_authorization")
    }
}

/// Renders the secret (link, code, ticket URL) as the whole text part.
#[derive(Debug, Default)]
pub(crate) struct FakeRenderer;

impl MailRenderer for FakeRenderer {
    fn render(
        &self,
        _tenant: &TenantConfig,
        _locale: &LocaleTag,
        content: &MailContent,
        _request_id: Option<&str>,
    ) -> Result<RenderedMail, EngineError> {
        let text = match content {
            MailContent::ResetLink { url, .. } | MailContent::ResetTicket { url, .. } => {
                url.clone()
            }
            MailContent::ResetCode { code, .. } => code.clone(),
            MailContent::PasswordChanged => "changed".into(),
        };
        Ok(RenderedMail {
            subject: "Reset".into(),
            html: format!("<p>{text}</p>"),
            text,
        })
    }
}

/// One tenant `acme` (client `acme-ios`) in `mode`/`delivery`.
pub(crate) fn tenant_yaml(mode: &str, delivery: &str) -> String {
    format!(
        "id: acme\ndisplay_name: Acme\nclient_ids: [acme-ios]\ntheme: default\n\
         locales:\n  default: en\n  supported: [en]\n\
         password_policy:\n  min_length: 12\n  history: 2\n\
         reset:\n  mode: {mode}\n  delivery: {delivery}\n  token_ttl: 10m\n  redirect_uris: [\"acme://done\"]\n\
         email:\n  from: Acme <no-reply@acme.example>\n  password_changed_notice: true\n"
    )
}

/// A reset request for `email` through `acme-ios`.
pub(crate) fn request_input(email: &str) -> crate::request::RequestInput {
    crate::request::RequestInput {
        client_id: "acme-ios".into(),
        email_raw: email.into(),
        locale: None,
        redirect_uri: None,
        client_ip: "203.0.113.7".parse().unwrap(),
        request_id: "req-1".into(),
    }
}

/// A migrated store in a SQLite file under `dir`.
pub(crate) async fn store(dir: &tempfile::TempDir) -> Store {
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("kit.sqlite").display()
    );
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    store
}

/// Stores the tenant's row (token, job and mail rows refer to it).
pub(crate) async fn import(
    store: &Store,
    tenant: &passgate_tenant::ValidatedTenant,
    yaml: &str,
    at: DateTime<Utc>,
) {
    use passgate_store::{TenantImport, TenantRepo as _};
    store
        .import_tenants(
            vec![TenantImport {
                id: tenant.config.id.clone(),
                display_name: tenant.config.display_name.clone(),
                client_ids: tenant.config.client_ids.clone(),
                yaml: yaml.to_owned(),
            }],
            "test",
            at,
        )
        .await
        .unwrap();
}

/// An engine of fakes, and the fakes.
pub(crate) struct Kit {
    pub(crate) engine: Engine,
    pub(crate) provider: Arc<FakeProvider>,
    pub(crate) mailbox: DevMailbox,
    pub(crate) clock: FixedClock,
    pub(crate) store: Store,
    _dir: tempfile::TempDir,
}

impl Kit {
    /// A kit for one tenant in `mode`/`delivery` whose provider knows `ada@example.com` and
    /// the blocked `bob@example.com`.
    pub(crate) async fn new(mode: &str, delivery: &str) -> Self {
        Self::with(mode, delivery, |_| {}).await
    }

    pub(crate) async fn with(
        mode: &str,
        delivery: &str,
        tweak: impl FnOnce(&mut EngineSettings),
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let yaml = tenant_yaml(mode, delivery);
        let tenant = parse_tenant_yaml("acme.yaml", &yaml).unwrap();
        let start = DateTime::from_timestamp(1_795_000_000, 0).unwrap();
        import(&store, &tenant, &yaml, start).await;
        let provider = Arc::new(
            FakeProvider::default()
                .with_user("ada@example.com", false)
                .with_user("bob@example.com", true),
        );
        let providers = FixedProviders::new().with(
            tenant.config.id.clone(),
            Arc::clone(&provider) as Arc<dyn IdentityProvider>,
        );
        let clock = FixedClock::new(start);
        let mailbox = DevMailbox::new();
        let mut settings = EngineSettings::new("https://reset.example.test");
        settings.request_floor = std::time::Duration::ZERO;
        tweak(&mut settings);
        let engine = Engine::new(EngineParts {
            store: store.clone(),
            tenants: Arc::new(StaticTenants::new([tenant])),
            providers: Arc::new(providers),
            renderer: Arc::new(FakeRenderer),
            transport: Arc::new(mailbox.clone()),
            keyring: Keyring::generate("test").unwrap(),
            clock: Arc::new(clock.clone()) as Arc<dyn Clock>,
            settings,
        });
        Self {
            engine,
            provider,
            mailbox,
            clock,
            store,
            _dir: dir,
        }
    }

    /// The tenant's runtime.
    pub(crate) async fn tenant(&self) -> Arc<TenantRuntime> {
        let client = ClientId::parse("acme-ios").unwrap();
        self.engine
            .tenants
            .by_client(&client)
            .await
            .unwrap()
            .unwrap()
    }

    /// Requests a reset for `email`, runs the job and the outbox; returns the flow id.
    pub(crate) async fn request(&self, email: &str) -> String {
        let accepted = self
            .engine
            .request_reset(request_input(email))
            .await
            .unwrap();
        self.engine.run_jobs_once().await.unwrap();
        self.engine.run_outbox_once().await.unwrap();
        accepted.flow_id
    }

    /// The text of the last mail sent.
    pub(crate) fn last_mail(&self) -> String {
        self.mailbox.messages().last().expect("a mail").text.clone()
    }

    /// The token of the last link mail.
    pub(crate) fn last_token(&self) -> String {
        let text = self.last_mail();
        let rest = text.split("token=").nth(1).expect("a link");
        // The link goes on with `&client_id=…&locale=…` (the dead-end page's app and language).
        rest.split(['&', ' ', '\n'])
            .next()
            .unwrap_or(rest)
            .to_owned()
    }
}
