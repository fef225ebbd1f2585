//! The engine test harness: a real SQLite store (migrated), the real provider simulator, a
//! real SMTP sink on loopback, the real themes, and a fixed clock.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::{net::IpAddr, sync::Arc, time::Duration};

use chrono::{DateTime, TimeDelta, Utc};
use passgate_engine::{
    CompleteError, CompleteInput, Completed, Credential, Engine, EngineParts, EngineSettings,
    FixedClock, Keyring, RequestAccepted, RequestInput, StaticTenants, StoredProviders,
    TenantDirectory, ThemeRenderer,
    mail::{SmtpSecurity, SmtpSettings, SmtpTransport},
    seal_provider_secret,
};
use passgate_idp::{Auth0Client, Auth0Config, IdentityProvider};
use passgate_idp_sim::{SeedUser, SimConfig, SimHandle};
use passgate_routing::{Router, RouterOptions};
use passgate_smtp_sink::{ReceivedMail, SmtpSink};
use passgate_store::{
    Auth0Binding, JanrainBinding, ProviderBinding, Store, TenantImport, TenantRepo,
};
use passgate_tenant::{TenantId, parse_tenant_yaml};
use passgate_theme::Themes;
use secrecy::SecretString;

pub const BASE: &str = "https://reset.example.test";
pub const PASSWORD: &str = "violet kestrel harbour 1987 lantern";
pub const AUTH0_CONNECTION: &str = "Username-Password-Authentication";

/// One tenant YAML per mode; `{extra}` lets a test add keys.
pub fn tenant_yaml(id: &str, mode: &str, delivery: &str, locales: &str, extra: &str) -> String {
    format!(
        "id: {id}\ndisplay_name: {id} app\nclient_ids: [{id}-ios]\ntheme: default\n\
         locales:\n  default: en\n  supported: [{locales}]\n\
         password_policy:\n  min_length: 12\n  history: 2\n\
         reset:\n  mode: {mode}\n  delivery: {delivery}\n  token_ttl: {ttl}\n  redirect_uris: [\"{id}://done\"]\n\
         email:\n  from: {id} <no-reply@{id}.example>\n  password_changed_notice: true\n\
         rate_limits:\n  requests_per_ip_per_hour: 100\n  requests_per_account_per_hour: 10\n  requests_per_tenant_per_minute: 600\n{extra}",
        ttl = if delivery == "code" { "10m" } else { "30m" },
    )
}

pub struct Harness {
    pub engine: Engine,
    pub sim: SimHandle,
    pub sink: SmtpSink,
    pub clock: FixedClock,
    pub store: Store,
    pub tenant: TenantId,
    pub client: String,
    pub keyring: Keyring,
    pub settings: EngineSettings,
    pub dir: tempfile::TempDir,
    /// The PostgreSQL schema of a [`Harness::postgres`] harness (for dumps), else `None`.
    pub pg_schema: Option<String>,
}

fn make_engine(
    store: &Store,
    keyring: &Keyring,
    clock: &FixedClock,
    settings: &EngineSettings,
    smtp_port: u16,
    tenants: Arc<dyn TenantDirectory>,
) -> Engine {
    let providers = StoredProviders::new(
        store.clone(),
        keyring.clone(),
        loopback(),
        fast_http(),
        Arc::new(settings.clone()),
    )
    .with_clock(Arc::new(clock.clone()));
    let themes = Themes::load(&themes_dir()).unwrap();
    let transport = SmtpTransport::new(&SmtpSettings {
        host: "127.0.0.1".into(),
        port: smtp_port,
        security: SmtpSecurity::Plain,
        username: None,
        password: None,
        timeout: Duration::from_secs(5),
    })
    .unwrap();
    Engine::new(EngineParts {
        store: store.clone(),
        tenants,
        providers: Arc::new(providers),
        renderer: Arc::new(ThemeRenderer::new(Arc::new(themes))),
        transport: Arc::new(transport),
        keyring: keyring.clone(),
        clock: Arc::new(clock.clone()),
        settings: settings.clone(),
    })
}

/// Both worker loops, spawned; send `true` to stop them.
pub fn spawn_workers(
    h: &Harness,
) -> (
    tokio::sync::watch::Sender<bool>,
    [tokio::task::JoinHandle<()>; 2],
) {
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let jobs = tokio::spawn({
        let engine = h.engine.clone();
        let shutdown = shutdown.clone();
        async move { engine.run_job_worker(shutdown).await }
    });
    let outbox = tokio::spawn({
        let engine = h.engine.clone();
        async move { engine.run_outbox_worker(shutdown).await }
    });
    (stop, [jobs, outbox])
}

pub async fn stop_workers(
    stop: tokio::sync::watch::Sender<bool>,
    workers: [tokio::task::JoinHandle<()>; 2],
    patience: Duration,
) {
    stop.send(true).unwrap();
    for worker in workers {
        tokio::time::timeout(patience, worker)
            .await
            .expect("a worker stops on shutdown")
            .unwrap();
    }
}

/// A fixed tenant directory of the one tenant `acme` (for a second engine on one store).
pub fn acme_only(mode: &str, delivery: &str) -> StaticTenants {
    StaticTenants::new([parse_tenant_yaml(
        "acme.yaml",
        &tenant_yaml("acme", mode, delivery, "en", ""),
    )
    .unwrap()])
}

pub fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_000_000, 0).unwrap()
}

pub fn users() -> Vec<SeedUser> {
    let seed = |email: &str, connection: Option<&str>, blocked: bool| SeedUser {
        email: email.into(),
        user_id: None,
        connection: connection.map(str::to_owned),
        name: Some("Ada Lovelace".into()),
        blocked,
        email_verified: true,
        password: Some("an old password of hers 1815".into()),
    };
    vec![
        seed("ada@example.com", None, false),
        seed("blocked@example.com", None, true),
        seed("jan@example.com", Some("janrain"), false),
    ]
}

pub use passgate_testkit::paths::themes_dir;
pub use passgate_testkit::provider_http::{fast_http, loopback};
pub use passgate_testkit::reset_mail::{code_in, token_in};

impl Harness {
    /// A harness with one tenant in `mode`/`delivery`, supporting `locales` (e.g. "en, fr").
    pub async fn new(mode: &str, delivery: &str, locales: &str) -> Self {
        Self::with_yaml(&tenant_yaml("acme", mode, delivery, locales, "")).await
    }

    pub async fn with_yaml(yaml: &str) -> Self {
        Self::build(&[yaml.to_owned()], |_| {}).await
    }

    /// Like [`Harness::new`] but on PostgreSQL (a fresh schema), or `None` (printing that it
    /// skipped) when `PASSGATE_TEST_POSTGRES_URL` is unset.
    pub async fn postgres(mode: &str, delivery: &str) -> Option<Self> {
        Self::postgres_with(mode, delivery, |_| {}).await
    }

    /// As [`Harness::postgres`], settings adjusted by `tweak`.
    pub async fn postgres_with(
        mode: &str,
        delivery: &str,
        tweak: impl FnOnce(&mut EngineSettings),
    ) -> Option<Self> {
        let url = passgate_testkit::postgres::test_url()?;
        let schema = format!("passgate_engine_{:016x}", rand::random::<u64>());
        {
            use sea_orm::ConnectionTrait as _;
            let admin = sea_orm::Database::connect(&url).await.unwrap();
            admin
                .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
                .await
                .unwrap();
            admin.close().await.unwrap();
        }
        let mut options = passgate_store::StoreOptions::new(&url);
        options.schema = Some(schema.clone());
        let store = Store::connect_with(options).await.unwrap();
        let yaml = tenant_yaml("acme", mode, delivery, "en", "");
        let mut harness = Self::build_on(Some(store), &[yaml], tweak).await;
        harness.pg_schema = Some(schema);
        Some(harness)
    }

    /// Tenants from `yamls` (the first is "the" tenant), settings adjusted by `tweak`.
    pub async fn build(yamls: &[String], tweak: impl FnOnce(&mut EngineSettings)) -> Self {
        Self::build_on(None, yamls, tweak).await
    }

    /// As [`Harness::build`], on `store` (a temporary SQLite file when `None`).
    pub async fn build_on(
        store: Option<Store>,
        yamls: &[String],
        tweak: impl FnOnce(&mut EngineSettings),
    ) -> Self {
        passgate_idp::install_crypto_provider();
        let validated: Vec<_> = yamls
            .iter()
            .map(|y| parse_tenant_yaml("test.yaml", y).expect("tenant yaml"))
            .collect();
        let tenant = validated[0].config.id.clone();
        let client = validated[0].config.client_ids[0].as_str().to_owned();

        let sim = passgate_idp_sim::start(SimConfig {
            // Tenants revoke sessions by default (Enterprise plans only) and tickets carry
            // result_url (honoured by Classic Universal Login only).
            auth0: passgate_idp_sim::Auth0Settings {
                plan: passgate_idp_sim::Plan::Enterprise,
                universal_login: passgate_idp_sim::UniversalLogin::Classic,
                ..passgate_idp_sim::Auth0Settings::default()
            },
            // The Capture client mails Passgate's landing page (its password_recover_url).
            janrain: passgate_idp_sim::JanrainSettings {
                password_recover_url: Some(format!("{BASE}/reset/janrain?client_id={client}")),
                ..passgate_idp_sim::JanrainSettings::default()
            },
            users: users(),
            oidc: None,
        })
        .await
        .unwrap();
        let sink = SmtpSink::start().await.unwrap();

        let dir = tempfile::tempdir().unwrap();
        let store = match store {
            Some(store) => store,
            None => {
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("engine.sqlite").display()
                );
                Store::connect(&url).await.unwrap()
            }
        };
        store.migrate().await.unwrap();

        let clock = FixedClock::new(t0());
        let keyring = Keyring::generate("test").unwrap();
        let imports = validated
            .iter()
            .zip(yamls)
            .map(|(v, yaml)| TenantImport {
                id: v.config.id.clone(),
                display_name: v.config.display_name.clone(),
                client_ids: v.config.client_ids.clone(),
                yaml: yaml.clone(),
            })
            .collect();
        store.import_tenants(imports, "test", t0()).await.unwrap();
        for v in &validated {
            let id = v.config.id.clone();
            let janrain = matches!(v.config.reset.mode, passgate_tenant::ResetMode::Janrain);
            let (binding, secret) = if janrain {
                let binding =
                    JanrainBinding::new(sim.janrain_base_url.clone(), "sim-janrain-client");
                (ProviderBinding::Janrain(binding), "sim-janrain-secret")
            } else {
                let binding =
                    Auth0Binding::new(sim.base_url.clone(), AUTH0_CONNECTION, "sim-client");
                (ProviderBinding::Auth0(binding), "sim-secret")
            };
            store.set_provider(&id, binding, t0()).await.unwrap();
            let sealed = seal_provider_secret(&keyring, &id, &SecretString::from(secret)).unwrap();
            store
                .set_provider_secret(&id, Some(sealed), t0())
                .await
                .unwrap();
        }

        let mut settings = EngineSettings::new(BASE);
        settings.request_floor = Duration::ZERO;
        settings.jobs.base_backoff = Duration::from_secs(1);
        settings.outbox.base_backoff = Duration::from_secs(1);
        tweak(&mut settings);
        // The production path: the routing cache over the store.
        let tenants = Arc::new(Router::attach(&store, &RouterOptions::default()));
        let engine = make_engine(
            &store,
            &keyring,
            &clock,
            &settings,
            sink.addr().port(),
            tenants,
        );
        Self {
            engine,
            sim,
            sink,
            clock,
            store,
            tenant,
            client,
            keyring,
            settings,
            dir,
            pg_schema: None,
        }
    }

    /// Another engine over the same store, simulator, sink, keys and clock, with `tenants`.
    pub fn engine_with(&self, tenants: StaticTenants) -> Engine {
        let tenants = Arc::new(tenants);
        make_engine(
            &self.store,
            &self.keyring,
            &self.clock,
            &self.settings,
            self.sink.addr().port(),
            tenants,
        )
    }

    pub fn input(&self, email: &str) -> RequestInput {
        RequestInput {
            client_id: self.client.clone(),
            email_raw: email.into(),
            locale: None,
            redirect_uri: None,
            client_ip: "203.0.113.7".parse().unwrap(),
            request_id: "req-1".into(),
        }
    }

    pub async fn request(&self, email: &str) -> RequestAccepted {
        self.engine.request_reset(self.input(email)).await.unwrap()
    }

    pub async fn request_in(&self, email: &str, locale: &str) -> RequestAccepted {
        let mut input = self.input(email);
        input.locale = Some(locale.into());
        self.engine.request_reset(input).await.unwrap()
    }

    /// Runs the job worker and the outbox until both are idle.
    pub async fn drain(&self) {
        for _ in 0..20 {
            let jobs = self.engine.run_jobs_once().await.unwrap();
            let mails = self.engine.run_outbox_once().await.unwrap();
            if jobs.is_idle() && mails.is_idle() {
                return;
            }
        }
    }

    /// Every mail the SMTP sink accepted.
    pub fn mails(&self) -> Vec<ReceivedMail> {
        self.sink.received()
    }

    /// The token of the last link mail.
    pub fn last_token(&self) -> String {
        let mails = self.mails();
        let mail = mails.last().expect("a mail");
        token_in(&plain_text(mail)).expect("a token link")
    }

    pub fn complete_input(&self, credential: Credential, password: &str) -> CompleteInput {
        CompleteInput {
            credential,
            password: SecretString::from(password),
            confirmation: SecretString::from(password),
            client_ip: "198.51.100.4".parse().unwrap(),
            request_id: "req-2".into(),
        }
    }

    pub async fn complete_link(
        &self,
        token: &str,
        password: &str,
    ) -> Result<Completed, CompleteError> {
        self.engine
            .complete_reset(self.complete_input(
                Credential::Link {
                    token: token.into(),
                },
                password,
            ))
            .await
    }

    /// The sim's Auth0 client, for changing things "by another path".
    pub fn auth0(&self) -> Auth0Client {
        Auth0Client::new(Auth0Config {
            domain: self.sim.base_url.clone(),
            client_id: "sim-client".into(),
            client_secret: SecretString::from("sim-secret"),
            connection: AUTH0_CONNECTION.into(),
            audience: None,
            canonical_domain: None,
            custom_domain: None,
            app_client_id: None,
            new_universal_login: false,
            hosts: loopback(),
            http: fast_http(),
        })
        .unwrap()
    }

    /// PATCH calls that carried a password (password changes attempted at the provider).
    pub fn password_patches(&self) -> usize {
        self.sim
            .calls()
            .iter()
            .filter(|c| c.method == "PATCH" && c.password_sha256.is_some())
            .count()
    }

    /// The stored digest of `token` under this harness's keys.
    pub fn engine_digest(&self, token: &str) -> passgate_store::Sha256Digest {
        let hasher = passgate_engine::TokenHasher::new(self.keyring.derive("token-hash"));
        let token = passgate_engine::LinkToken::parse(token).expect("token shape");
        passgate_store::Sha256Digest::from_bytes(hasher.link(&token).to_bytes())
    }

    pub fn advance(&self, by: TimeDelta) {
        self.clock.advance(by);
    }
}

/// Decodes the text/plain part of a received message (7bit, quoted-printable or base64).
pub fn plain_text(mail: &ReceivedMail) -> String {
    passgate_testkit::mime::plain_text(&mail.data)
}

/// Decodes the text/html part.
pub fn html_text(mail: &ReceivedMail) -> String {
    passgate_testkit::mime::html_text(&mail.data)
}

pub fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// Dyn provider, for direct calls.
pub fn as_provider(client: Auth0Client) -> Arc<dyn IdentityProvider> {
    Arc::new(client)
}

impl Harness {
    /// The stored flow row of a code-mode request (`None` before its job ran, or for a mode
    /// without flows).
    pub async fn flow_row(&self, flow_id: &str) -> Option<passgate_store::ResetToken> {
        let hasher = passgate_engine::TokenHasher::new(self.keyring.derive("token-hash"));
        let flow = passgate_engine::FlowId::parse(flow_id).expect("flow id shape");
        let digest = passgate_store::Sha256Digest::from_bytes(hasher.flow(&flow).to_bytes());
        passgate_store::TokenRepo::lookup_token(&self.store, &digest)
            .await
            .unwrap()
    }

    /// A code that is not `right` (or any code, when there is none).
    pub fn wrong_code(right: Option<&str>) -> String {
        match right {
            Some("00000000") => "11111111".into(),
            _ => "00000000".into(),
        }
    }
}
