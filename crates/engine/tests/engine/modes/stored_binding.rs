//! A tenant bound through the store reaches a production-shaped Auth0 tenant exactly as a
//! client configured in code does: the stored custom domain, app client id and New
//! Universal Login setting reach the provider client (issue 15; they used to be dropped).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::TimeDelta;
use passgate_engine::{
    EngineSettings, Keyring, ProviderDirectory, StoredProviders, seal_provider_secret,
};
use passgate_idp::{IdentityProvider, IdpError, TicketRequest};
use passgate_idp_sim::{Auth0Settings, SimClient, SimConfig, SimHandle, UniversalLogin};
use passgate_store::{Auth0Binding, ProviderBinding, Store, TenantImport, TenantRepo};
use passgate_tenant::{TenantConfig, parse_tenant_yaml};
use secrecy::SecretString;

use crate::common::{AUTH0_CONNECTION, BASE, fast_http, loopback, t0, tenant_yaml, users};

/// Two verified custom domains, New Universal Login, an M2M application without the
/// database connection and the product's own application with it: the usual production
/// tenant, which the strict simulator models.
async fn production_sim() -> SimHandle {
    let mut auth0 = Auth0Settings {
        custom_domains: vec!["login.acme.com".into(), "login.acme.de".into()],
        universal_login: UniversalLogin::New,
        ..Auth0Settings::default()
    };
    for client in &mut auth0.clients {
        client.enabled_connections.clear();
    }
    auth0.clients.push(SimClient {
        client_id: "acme-web".into(),
        client_secret: "acme-web-secret".into(),
        scopes: Vec::new(),
        enabled_connections: vec![AUTH0_CONNECTION.into()],
        login_uri: Some("https://app.acme.example/login".into()),
    });
    passgate_idp_sim::start(SimConfig {
        auth0,
        users: users(),
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

struct Stored {
    store: Store,
    providers: StoredProviders,
    config: TenantConfig,
    _dir: tempfile::TempDir,
}

async fn stored_tenant() -> Stored {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("b.sqlite").display()
    );
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let yaml = tenant_yaml("acme", "auth0_ticket", "link", "en", "");
    let config = parse_tenant_yaml("acme.yaml", &yaml).unwrap().config;
    store
        .import_tenants(
            vec![TenantImport {
                id: config.id.clone(),
                display_name: "Acme".into(),
                client_ids: config.client_ids.clone(),
                yaml,
            }],
            "test",
            t0(),
        )
        .await
        .unwrap();
    let keyring = Keyring::generate("test").unwrap();
    let secret = SecretString::from("sim-secret");
    let sealed = seal_provider_secret(&keyring, &config.id, &secret).unwrap();
    store
        .set_provider_secret(&config.id, Some(sealed), t0())
        .await
        .unwrap();
    let providers = StoredProviders::new(
        store.clone(),
        keyring,
        loopback(),
        fast_http(),
        Arc::new(EngineSettings::new(BASE)),
    );
    Stored {
        store,
        providers,
        config,
        _dir: dir,
    }
}

impl Stored {
    /// Stores `binding` (a second later each time, so the directory rebuilds the client).
    async fn bind(&self, binding: Auth0Binding, seconds: i64) -> Arc<dyn IdentityProvider> {
        self.store
            .set_provider(
                &self.config.id,
                ProviderBinding::Auth0(binding),
                t0() + TimeDelta::seconds(seconds),
            )
            .await
            .unwrap();
        self.providers.provider(&self.config).await.unwrap()
    }
}

async fn ticket(client: &dyn IdentityProvider, sim: &SimHandle) -> Result<(), IdpError> {
    let user = sim.user("ada@example.com").unwrap();
    client
        .create_password_change_ticket(&TicketRequest {
            user_id: user.user_id,
            result_url: Some("acme://done".into()),
            client_id: None,
            ttl: None,
            mark_email_as_verified: true,
        })
        .await
        .map(|_| ())
}

#[tokio::test]
async fn a_stored_binding_carries_custom_domain_app_client_and_new_universal_login() {
    let sim = production_sim().await;
    let stored = stored_tenant().await;
    let bare = Auth0Binding::new(sim.base_url.clone(), AUTH0_CONNECTION, "sim-client");

    // Without the production fields the real tenant (and the simulator) refuses both calls.
    let client = stored.bind(bare.clone(), 1).await;
    let err = ticket(client.as_ref(), &sim).await.unwrap_err();
    assert!(
        matches!(&err, IdpError::UnexpectedResponse { status: 409, .. }),
        "several custom domains and no auth0-custom-domain header: {err:?}"
    );
    let err = client
        .send_reset_email("ada@example.com")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, IdpError::BadRequest { message, .. } if message.contains("not enabled")),
        "the M2M application lacks the connection: {err:?}"
    );

    // The same tenant bound with them: both calls go through, as the application.
    let client = stored
        .bind(
            Auth0Binding {
                custom_domain: Some("login.acme.de".into()),
                app_client_id: Some("acme-web".into()),
                new_universal_login: true,
                ..bare
            },
            2,
        )
        .await;
    ticket(client.as_ref(), &sim).await.unwrap();
    client.send_reset_email("ada@example.com").await.unwrap();
    let calls = sim.calls();
    let ticket_call = calls
        .iter()
        .rev()
        .find(|c| c.path == "/api/v2/tickets/password-change")
        .unwrap();
    assert_eq!(ticket_call.params["client_id"], "acme-web");
    assert!(
        ticket_call.params.get("result_url").is_none(),
        "New Universal Login ignores result_url: {:?}",
        ticket_call.params
    );
    assert_eq!(sim.mailbox().len(), 1, "Auth0 mailed the reset link once");
}
