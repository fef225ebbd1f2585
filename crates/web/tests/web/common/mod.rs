//! The web test harness: the real engine over a migrated SQLite store, the provider
//! simulator, a real SMTP sink on loopback, the real themes, and the web app on top.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{sync::Arc, time::Duration};

use passgate_engine::{
    Engine, EngineParts, EngineSettings, FixedClock, Keyring, StaticTenants, StoredProviders,
    ThemeRenderer,
    mail::{SmtpSecurity, SmtpSettings, SmtpTransport},
    seal_provider_secret,
};
use passgate_idp::HttpConfig;
use passgate_idp_sim::{SeedUser, SimConfig, SimHandle};
use passgate_smtp_sink::{ReceivedMail, SmtpSink};
use passgate_store::{Auth0Binding, NewTenant, ProviderBinding, Store, TenantRepo, TenantStatus};
use passgate_tenant::{ValidatedTenant, parse_tenant_yaml};
use passgate_theme::Themes;
use passgate_web::{AppState, CsrfKey, WebSettings};
use secrecy::SecretString;

pub use passgate_testkit::paths::themes_dir;
/// The public origin in in-process tests, and the `Host` every request carries.
pub use passgate_testkit::public_origin::{PUBLIC_HOST as HOST, PUBLIC_URL as BASE};
pub use passgate_testkit::reset_mail::{code_in, link_in, token_of};
/// A password every fixture tenant accepts.
pub const PASSWORD: &str = "violet kestrel harbour 1987 lantern";
const AUTH0_CONNECTION: &str = "Username-Password-Authentication";

/// Fitness theme, German by default, a JavaScript rule, hosted links.
pub const FITLIFE: &str = r##"
id: fitlife
display_name: FitLife
client_ids: [fitlife-ios, fitlife-web]
theme: fitness
branding:
  primary_color: "#ff7a45"
locales:
  default: de
  supported: [de, en, es]
messages:
  de:
    fitlife.no_repeats: "Höchstens {max} gleiche Zeichen hintereinander."
  en:
    fitlife.no_repeats: "At most {max} identical characters in a row."
  es:
    fitlife.no_repeats: "Como máximo {max} caracteres iguales seguidos."
password_policy:
  min_length: 15
  script:
    source: |
      function validate(password, ctx) {
        let run = 1;
        for (let i = 1; i < password.length; i++) {
          run = password[i] === password[i - 1] ? run + 1 : 1;
          if (run > 3) { return [{ key: "fitlife.no_repeats", params: { max: "3" } }]; }
        }
        return [];
      }
    params:
      max: [3]
    timeout_ms: 100
reset:
  mode: hosted
  delivery: link
  token_ttl: 1h
  redirect_uris:
    - fitlife://password-reset/done
    - https://app.fitlife.example/welcome-back
"##;

/// Bank theme, French and English, character classes, hosted links.
pub const NORTHBANK: &str = r##"
id: northbank
display_name: Northbank
client_ids: [northbank-mobile]
theme: bank
branding:
  primary_color: "#0b2e4f"
  background_color: "#f4f6f8"
  text_color: "#0b1b2b"
locales:
  default: fr
  supported: [fr, en]
password_policy:
  min_length: 16
  character_classes:
    require: [lowercase, uppercase, digit, symbol]
    min_classes: 3
reset:
  mode: hosted
  delivery: link
  token_ttl: 30m
  redirect_uris:
    - northbank://security/password-updated
    - https://online.northbank.example/security/done
"##;

/// Default theme, code delivery.
pub const VAULT: &str = r##"
id: vault
display_name: Vault
client_ids: [vault-app]
theme: default
locales:
  default: en
  supported: [en]
password_policy:
  min_length: 12
reset:
  mode: hosted
  delivery: code
  token_ttl: 10m
"##;

/// The example tenant Acme Shop as shipped (French and English, the `(?i)acme` regex rule,
/// strength and a blocklist), for the live-rule tests.
pub const ACME: &str = include_str!("../../../../../tenants/acme-shop.yaml");

/// The example tenants as shipped (`tenants/*.yaml`), for the browser sweep; with
/// `landing`, each also allows `{landing}/{tenant id}` as a redirect URI.
pub fn examples_with(landing: Option<&str>) -> Vec<ValidatedTenant> {
    [
        ("acme-shop", ACME),
        (
            "fitlife",
            include_str!("../../../../../tenants/fitlife.yaml"),
        ),
        (
            "northbank",
            include_str!("../../../../../tenants/northbank.yaml"),
        ),
        (
            "riverline",
            include_str!("../../../../../tenants/riverline.yaml"),
        ),
    ]
    .iter()
    .map(|(id, yaml)| parse_with_landing(id, yaml, landing))
    .collect()
}

/// `yaml` parsed, `{landing}/{id}` added to its redirect URIs (at the end: the first stays
/// the tenant's default return URI).
fn parse_with_landing(id: &str, yaml: &str, landing: Option<&str>) -> ValidatedTenant {
    let yaml = match landing {
        Some(base) if yaml.contains("redirect_uris:\n") => {
            let start = yaml.find("redirect_uris:\n").unwrap_or(0);
            let list_end = yaml[start..]
                .find("\n\n")
                .map_or(yaml.len(), |end| start + end);
            format!(
                "{}\n    - {base}/{id}{}",
                &yaml[..list_end],
                &yaml[list_end..]
            )
        }
        _ => yaml.to_owned(),
    };
    parse_tenant_yaml("fixture.yaml", &yaml).expect("fixture tenant")
}

/// Every fixture tenant.
pub fn fixtures() -> Vec<ValidatedTenant> {
    fixtures_with(None)
}

/// Every fixture tenant; with `landing`, each also allows `{landing}/{tenant id}` as a
/// redirect URI (the browser test's stand-in for the app).
pub fn fixtures_with(landing: Option<&str>) -> Vec<ValidatedTenant> {
    [
        ("fitlife", FITLIFE),
        ("northbank", NORTHBANK),
        ("vault", VAULT),
        ("acme-shop", ACME),
    ]
    .iter()
    .map(|(id, yaml)| parse_with_landing(id, yaml, landing))
    .collect()
}

pub fn themes() -> Arc<Themes> {
    Arc::new(Themes::load(&themes_dir()).unwrap())
}

fn users() -> Vec<SeedUser> {
    ["ada@example.com", "grace@example.com", "linus@example.com"]
        .iter()
        .map(|email| SeedUser {
            email: (*email).into(),
            user_id: None,
            connection: None,
            name: Some("Ada Lovelace".into()),
            blocked: false,
            email_verified: true,
            password: Some("an old password of hers 1815".into()),
        })
        .collect()
}

/// The kit's fast provider settings.
fn fast_http() -> HttpConfig {
    passgate_testkit::provider_http::fast_http()
}

/// Everything a web test needs.
pub struct Harness {
    pub state: AppState,
    /// The keyring provider secrets are sealed with (the admin API needs the same one).
    pub keyring: Keyring,
    pub engine: Engine,
    pub sim: SimHandle,
    pub sink: Arc<SmtpSink>,
    pub store: Store,
    pub clock: FixedClock,
    _dir: tempfile::TempDir,
}

impl Harness {
    /// The real stack with the fixture tenants, links built from `base`.
    pub async fn new(base: &str) -> Self {
        Self::with_landing(base, None).await
    }

    /// Like [`Harness::new`], with `{landing}/{tenant}` allowed as redirect URIs.
    pub async fn with_landing(base: &str, landing: Option<&str>) -> Self {
        Self::with_tenants(base, fixtures_with(landing)).await
    }

    /// The real stack serving `validated`, links built from `base`.
    pub async fn with_tenants(base: &str, validated: Vec<ValidatedTenant>) -> Self {
        Self::build(base, validated, Vec::new()).await
    }

    /// The real stack serving `yamls` from the store through the routing cache, as
    /// `passgate serve` does: what the admin API publishes is what the pages serve.
    pub async fn with_stored_tenants(base: &str, yamls: &[&str]) -> Self {
        let validated = yamls
            .iter()
            .map(|y| parse_tenant_yaml("fixture.yaml", y).expect("fixture tenant"))
            .collect();
        let texts = yamls.iter().map(|y| (*y).to_owned()).collect();
        Self::build(base, validated, texts).await
    }

    /// `stored_yaml` (the texts of `validated`, in order) puts the tenants in the store and
    /// serves them through the router; empty serves `validated` as static tenants.
    async fn build(base: &str, validated: Vec<ValidatedTenant>, stored_yaml: Vec<String>) -> Self {
        let stored = !stored_yaml.is_empty();
        passgate_idp::install_crypto_provider();
        let sim = passgate_idp_sim::start(SimConfig {
            // Tenants revoke sessions by default (Enterprise plans only) and tickets carry
            // result_url (honoured by Classic Universal Login only).
            auth0: passgate_idp_sim::Auth0Settings {
                plan: passgate_idp_sim::Plan::Enterprise,
                universal_login: passgate_idp_sim::UniversalLogin::Classic,
                ..passgate_idp_sim::Auth0Settings::default()
            },
            users: users(),
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let sink = SmtpSink::start().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("web.sqlite").display()
        );
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let keyring = Keyring::generate("test").unwrap();
        let now = chrono::DateTime::from_timestamp(1_795_000_000, 0).unwrap();
        let clock = FixedClock::new(now);
        if stored {
            let items = validated
                .iter()
                .zip(&stored_yaml)
                .map(|(v, yaml)| passgate_store::TenantImport {
                    id: v.config.id.clone(),
                    display_name: v.config.display_name.clone(),
                    client_ids: v.config.client_ids.clone(),
                    yaml: yaml.clone(),
                })
                .collect();
            store.import_tenants(items, "test", now).await.unwrap();
        }
        for v in &validated {
            let id = v.config.id.clone();
            if !stored {
                store
                    .create_tenant(
                        NewTenant {
                            id: id.clone(),
                            display_name: v.config.display_name.clone(),
                            status: TenantStatus::Active,
                        },
                        now,
                    )
                    .await
                    .unwrap();
            }
            store
                .set_provider(
                    &id,
                    ProviderBinding::Auth0(Auth0Binding::new(
                        sim.base_url.clone(),
                        AUTH0_CONNECTION,
                        "sim-client",
                    )),
                    now,
                )
                .await
                .unwrap();
            let sealed =
                seal_provider_secret(&keyring, &id, &SecretString::from("sim-secret")).unwrap();
            store
                .set_provider_secret(&id, Some(sealed), now)
                .await
                .unwrap();
        }
        let mut settings = EngineSettings::new(base);
        settings.request_floor = Duration::ZERO;
        settings.jobs.poll_interval = Duration::from_millis(50);
        settings.outbox.poll_interval = Duration::from_millis(50);
        let tenants: Arc<dyn passgate_engine::TenantDirectory> = if stored {
            Arc::new(passgate_routing::Router::attach(
                &store,
                &passgate_routing::RouterOptions::default(),
            ))
        } else {
            Arc::new(StaticTenants::new(validated))
        };
        let themes = themes();
        let transport = SmtpTransport::new(&SmtpSettings {
            host: "127.0.0.1".into(),
            port: sink.addr().port(),
            security: SmtpSecurity::Plain,
            username: None,
            password: None,
            timeout: Duration::from_secs(5),
        })
        .unwrap();
        let providers = StoredProviders::new(
            store.clone(),
            keyring.clone(),
            passgate_testkit::provider_http::loopback(),
            fast_http(),
            Arc::new(settings.clone()),
        );
        let engine = Engine::new(EngineParts {
            store: store.clone(),
            tenants: Arc::clone(&tenants),
            providers: Arc::new(providers),
            renderer: Arc::new(ThemeRenderer::new(Arc::clone(&themes))),
            transport: Arc::new(transport),
            keyring: keyring.clone(),
            clock: Arc::new(clock.clone()),
            settings,
        });
        let state = AppState {
            backend: Arc::new(engine.clone()),
            tenants,
            themes,
            settings: Arc::new(WebSettings::new(base)),
            csrf_key: CsrfKey::new(keyring.derive("csrf")),
            pages: Default::default(),
            policy_answers: Default::default(),
        };
        Self {
            state,
            keyring,
            engine,
            sim,
            sink: Arc::new(sink),
            store,
            clock,
            _dir: dir,
        }
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

    /// PATCH calls that carried a password.
    pub fn password_patches(&self) -> usize {
        self.sim
            .calls()
            .iter()
            .filter(|c| c.method == "PATCH" && c.password_sha256.is_some())
            .count()
    }
}

/// Decodes the text/plain part of a received message.
pub fn plain_text(mail: &ReceivedMail) -> String {
    passgate_testkit::mime::plain_text(&mail.data)
}

/// The HTML body of a mail.
pub fn html_of(mail: &ReceivedMail) -> String {
    passgate_testkit::mime::html_text(&mail.data)
}

/// A response read whole.
#[derive(Debug)]
pub struct Got {
    pub status: u16,
    pub headers: poem::http::HeaderMap,
    pub body: String,
}

impl Got {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The value of the hidden input `name` in the page.
    pub fn hidden(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')?;
        Some(html_unescape(&self.body[start..start + end]))
    }

    /// The `lang` of the page.
    pub fn lang(&self) -> Option<&str> {
        let start = self.body.find("<html lang=\"")? + "<html lang=\"".len();
        let end = self.body[start..].find('"')?;
        Some(&self.body[start..start + end])
    }

    /// The CSP nonce of the response header.
    pub fn nonce(&self) -> String {
        let csp = self.header("content-security-policy").unwrap_or_default();
        let start = csp.find("'nonce-").map(|i| i + 7).unwrap_or(0);
        csp[start..]
            .split('\'')
            .next()
            .unwrap_or_default()
            .to_owned()
    }
}

fn html_unescape(s: &str) -> String {
    s.replace("&#x2F;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Whether `headers` set `name`.
fn names(headers: &[(&str, &str)], name: &str) -> bool {
    headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name))
}

/// A browser-like client: keeps cookies, sends `Host`, and `Origin` on POSTs.
pub struct Browser<E: poem::Endpoint> {
    pub client: poem::test::TestClient<E>,
    pub cookies: std::collections::BTreeMap<String, String>,
    pub origin: Option<String>,
    /// The `Host` sent unless a request names its own (`None`: no `Host` at all).
    pub host: Option<String>,
}

impl<E: poem::Endpoint> Browser<E> {
    pub fn new(endpoint: E) -> Self {
        Self {
            client: poem::test::TestClient::new(endpoint),
            cookies: Default::default(),
            origin: Some(BASE.to_owned()),
            host: Some(HOST.to_owned()),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn read(&mut self, resp: poem::test::TestResponse) -> Got {
        let status = resp.0.status().as_u16();
        let headers = resp.0.headers().clone();
        for set in headers.get_all("set-cookie") {
            let text = set.to_str().unwrap();
            let (pair, _) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || text.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let body = resp.0.into_body().into_string().await.unwrap();
        Got {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, uri: &str) -> Got {
        self.get_with(uri, &[]).await
    }

    pub async fn get_with(&mut self, uri: &str, headers: &[(&str, &str)]) -> Got {
        let mut req = self.client.get(uri).header("cookie", self.cookie_header());
        if let (Some(host), false) = (&self.host, names(headers, "host")) {
            req = req.header("host", host.as_str());
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await;
        self.read(resp).await
    }

    /// POSTs a form body (already encoded) with the browser's cookies and `Origin`.
    pub async fn post_raw(&mut self, uri: &str, body: &str, headers: &[(&str, &str)]) -> Got {
        let mut req = self
            .client
            .post(uri)
            .header("cookie", self.cookie_header())
            .content_type("application/x-www-form-urlencoded")
            .body(body.to_owned());
        if let (Some(origin), false) = (&self.origin, names(headers, "origin")) {
            req = req.header("origin", origin.as_str());
        }
        if let (Some(host), false) = (&self.host, names(headers, "host")) {
            req = req.header("host", host.as_str());
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await;
        self.read(resp).await
    }

    /// POSTs `fields` as a form.
    pub async fn post(&mut self, uri: &str, fields: &[(&str, &str)]) -> Got {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.post_raw(uri, &body, &[]).await
    }

    /// Submits the form of `page` (its hidden fields) plus `fields` to `action`.
    pub async fn submit(&mut self, page: &Got, action: &str, fields: &[(&str, &str)]) -> Got {
        let mut all: Vec<(String, String)> = hidden_fields(&page.body);
        all.extend(
            fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(all)
            .finish();
        self.post_raw(action, &body, &[]).await
    }
}

/// Every `<input type="hidden" name=… value=…>` of a page.
pub fn hidden_fields(body: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.find("<input type=\"hidden\" name=\"") {
        rest = &rest[i + "<input type=\"hidden\" name=\"".len()..];
        let name_end = rest.find('"').unwrap();
        let name = rest[..name_end].to_owned();
        let value_start = rest.find("value=\"").unwrap() + "value=\"".len();
        let value_end = rest[value_start..].find('"').unwrap();
        out.push((
            name,
            html_unescape(&rest[value_start..value_start + value_end]),
        ));
    }
    out
}
