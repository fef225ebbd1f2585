//! [`ProviderDirectory`]: a tenant's identity-provider client, built from the binding a
//! platform admin stored and the client secret sealed at rest, cached per tenant and binding
//! version so token caches survive between requests.

use std::{fmt, sync::Arc};

use async_trait::async_trait;
use passgate_idp::{
    Auth0Client, Auth0Config, HostPolicy, HttpConfig, IdentityProvider, JanrainClient,
    JanrainConfig, MigrationPolicy, MovingProvider, ProviderKind,
};
use passgate_store::{EncryptedBlob, MoveSource, ProviderBinding, Store, TenantRepo};
use passgate_tenant::{TenantConfig, TenantId};
use secrecy::SecretString;

use crate::{
    at_rest::{open_blob, seal_blob},
    breaker::Breakers,
    clock::{Clock, SystemClock},
    error::EngineError,
    sealing::Keyring,
    settings::EngineSettings,
    source_guard::source_guarded,
};

/// Tenant → its provider client.
#[async_trait]
pub trait ProviderDirectory: Send + Sync + fmt::Debug {
    /// The provider client of `tenant`.
    async fn provider(
        &self,
        tenant: &TenantConfig,
    ) -> Result<Arc<dyn IdentityProvider>, EngineError>;
}

/// The AES-GCM associated data of a tenant's provider secret: a ciphertext copied to another
/// tenant's row does not open.
pub fn provider_secret_context(tenant: &TenantId) -> String {
    format!("provider-secret:{}", tenant.as_str())
}

/// Seals a provider client secret for [`TenantRepo::set_provider_secret`] (used by the admin
/// API, so both sides agree on the context).
pub fn seal_provider_secret(
    keyring: &Keyring,
    tenant: &TenantId,
    secret: &SecretString,
) -> Result<EncryptedBlob, EngineError> {
    seal_secret(keyring, secret, &provider_secret_context(tenant))
}

/// The associated data of a moving tenant's Janrain server-side secret (issue 19): it never
/// opens as the provider secret, nor as another tenant's.
pub fn move_secret_context(tenant: &TenantId) -> String {
    format!("move-secret:{}", tenant.as_str())
}

/// Seals a moving tenant's Janrain server-side client secret for [`TenantRepo::set_move`].
pub fn seal_move_secret(
    keyring: &Keyring,
    tenant: &TenantId,
    secret: &SecretString,
) -> Result<EncryptedBlob, EngineError> {
    seal_secret(keyring, secret, &move_secret_context(tenant))
}

fn seal_secret(
    keyring: &Keyring,
    secret: &SecretString,
    context: &str,
) -> Result<EncryptedBlob, EngineError> {
    use secrecy::ExposeSecret;
    seal_blob(keyring, secret.expose_secret().as_bytes(), context)
}

/// A sealed client secret opened under `context`.
fn open_secret(
    keyring: &Keyring,
    blob: &EncryptedBlob,
    context: &str,
    tenant: &TenantId,
) -> Result<SecretString, EngineError> {
    let secret = open_blob(keyring, blob, context)?;
    let secret = String::from_utf8(secret).map_err(|_| EngineError::ProviderBinding {
        tenant: tenant.as_str().to_owned(),
        reason: "secret is not UTF-8".to_owned(),
    })?;
    Ok(SecretString::from(secret))
}

/// Builds clients from the store's binding and secret; caches them per tenant and binding
/// version (the tenant row's `updated_at`), so a rebinding takes effect on the next call.
pub struct StoredProviders {
    store: Store,
    keyring: Keyring,
    hosts: HostPolicy,
    http: HttpConfig,
    settings: Arc<EngineSettings>,
    cache: moka::future::Cache<(TenantId, i64), Arc<dyn IdentityProvider>>,
    /// Held while a client is built: jobs that miss the cache together build it once (one
    /// M2M token, one look at the stored secret).
    building: tokio::sync::Mutex<()>,
    /// The circuits of moving tenants' Janrain sides (the tenant's own circuit is Auth0's).
    source_breakers: Arc<Breakers>,
    /// What those circuits' cooldowns are measured with.
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for StoredProviders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredProviders")
            .field("hosts", &self.hosts)
            .finish_non_exhaustive()
    }
}

impl StoredProviders {
    /// A directory over `store`; `hosts` is the provider-host allowlist (custom domains, and
    /// loopback only for tests and the demo).
    pub fn new(
        store: Store,
        keyring: Keyring,
        hosts: HostPolicy,
        http: HttpConfig,
        settings: Arc<EngineSettings>,
    ) -> Self {
        Self {
            store,
            keyring,
            hosts,
            http,
            cache: moka::future::Cache::builder().max_capacity(10_000).build(),
            building: tokio::sync::Mutex::new(()),
            source_breakers: Arc::new(Breakers::new(
                settings.breaker_threshold,
                settings.breaker_cooldown,
            )),
            settings,
            clock: Arc::new(SystemClock),
        }
    }

    /// The same directory with the circuits of moving tenants' Janrain sides on `clock` (the
    /// engine's, in tests with a fixed clock).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    async fn build(&self, config: &TenantConfig) -> Result<Arc<dyn IdentityProvider>, EngineError> {
        let binding_error = |reason: &str| EngineError::ProviderBinding {
            tenant: config.id.as_str().to_owned(),
            reason: reason.to_owned(),
        };
        let tenant = self
            .store
            .tenant(&config.id)
            .await?
            .ok_or_else(|| binding_error("no tenant row"))?;
        let binding = tenant.provider;
        let moving_from = tenant.moving_from;
        let blob = self
            .store
            .provider_secret(&config.id)
            .await?
            .ok_or_else(|| binding_error("no client secret stored"))?;
        let secret = open_secret(
            &self.keyring,
            &blob,
            &provider_secret_context(&config.id),
            &config.id,
        )?;
        let client: Arc<dyn IdentityProvider> = match binding {
            ProviderBinding::Unbound => return Err(binding_error("no provider binding")),
            ProviderBinding::Auth0(auth0) => Arc::new(Auth0Client::new(Auth0Config {
                domain: auth0.domain,
                canonical_domain: auth0.canonical_domain,
                custom_domain: auth0.custom_domain,
                client_id: auth0.client_id,
                app_client_id: auth0.app_client_id,
                new_universal_login: auth0.new_universal_login,
                client_secret: secret,
                connection: auth0.connection,
                audience: auth0.audience,
                hosts: self.hosts.clone(),
                http: self.http.clone(),
            })?),
            ProviderBinding::Janrain(janrain) => {
                let landing_client = config
                    .client_ids
                    .first()
                    .ok_or_else(|| binding_error("tenant has no client id"))?;
                // Capture mails its `password_recover_url` setting; the same URL goes as
                // `redirect_uri` on both calls (spec B1/B2).
                let recover_url = janrain
                    .password_recover_url
                    .unwrap_or_else(|| self.settings.janrain_landing(landing_client.as_str()));
                let mut client =
                    JanrainConfig::new(janrain.domain, janrain.client_id, secret, recover_url);
                client.flow = janrain.flow;
                if let Some(version) = janrain.flow_version {
                    client.flow_version = version;
                }
                client.hosts = self.hosts.clone();
                client.http = self.http.clone();
                Arc::new(JanrainClient::new(client)?)
            }
        };
        match moving_from {
            None => Ok(client),
            Some(source) => self.moving(config, source, client).await,
        }
    }

    /// `target` (the tenant's Auth0 client) behind a [`MovingProvider`] whose source is the
    /// Janrain app's server-side client.
    async fn moving(
        &self,
        config: &TenantConfig,
        source: MoveSource,
        target: Arc<dyn IdentityProvider>,
    ) -> Result<Arc<dyn IdentityProvider>, EngineError> {
        let binding_error = |reason: &str| EngineError::ProviderBinding {
            tenant: config.id.as_str().to_owned(),
            reason: reason.to_owned(),
        };
        if target.kind() != ProviderKind::Auth0 {
            return Err(binding_error("a move goes to an Auth0 binding"));
        }
        let blob = self
            .store
            .move_secret(&config.id)
            .await?
            .ok_or_else(|| binding_error("no Janrain server secret stored for the move"))?;
        let secret = open_secret(
            &self.keyring,
            &blob,
            &move_secret_context(&config.id),
            &config.id,
        )?;
        // Only the entity calls are used: the server-side client stands in for the login one.
        let mut janrain = JanrainConfig::new(
            source.domain,
            source.client_id.clone(),
            secret.clone(),
            self.settings.public_base_url.clone(),
        );
        janrain.hosts = self.hosts.clone();
        janrain.http = self.http.clone();
        let janrain =
            JanrainClient::new(janrain)?.with_server_credentials(source.client_id, secret);
        let policy = MigrationPolicy {
            reset_source_too: source.policy.reset_source_too,
            migrate_on_reset: source.policy.migrate_on_reset,
            dry_run: source.policy.dry_run,
        };
        let source = source_guarded(
            Arc::new(janrain),
            config.id.clone(),
            Arc::clone(&self.source_breakers),
            Arc::clone(&self.clock),
        );
        Ok(Arc::new(MovingProvider::new(
            Arc::new(source),
            target,
            policy,
        )))
    }
}

#[async_trait]
impl ProviderDirectory for StoredProviders {
    async fn provider(
        &self,
        config: &TenantConfig,
    ) -> Result<Arc<dyn IdentityProvider>, EngineError> {
        let version = self
            .store
            .tenant(&config.id)
            .await?
            .map(|t| t.updated_at.timestamp_micros())
            .ok_or_else(|| EngineError::TenantUnavailable(config.id.as_str().to_owned()))?;
        let key = (config.id.clone(), version);
        if let Some(client) = self.cache.get(&key).await {
            return Ok(client);
        }
        let _building = self.building.lock().await;
        if let Some(client) = self.cache.get(&key).await {
            return Ok(client);
        }
        let client = self.build(config).await?;
        self.cache.insert(key, Arc::clone(&client)).await;
        Ok(client)
    }
}

/// A fixed tenant → client map (tests and the demo).
#[derive(Debug, Default, Clone)]
pub struct FixedProviders {
    by_tenant: std::collections::HashMap<TenantId, Arc<dyn IdentityProvider>>,
}

impl FixedProviders {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) `tenant`'s client.
    pub fn with(mut self, tenant: TenantId, client: Arc<dyn IdentityProvider>) -> Self {
        self.by_tenant.insert(tenant, client);
        self
    }
}

#[async_trait]
impl ProviderDirectory for FixedProviders {
    async fn provider(
        &self,
        config: &TenantConfig,
    ) -> Result<Arc<dyn IdentityProvider>, EngineError> {
        self.by_tenant
            .get(&config.id)
            .cloned()
            .ok_or_else(|| EngineError::ProviderBinding {
                tenant: config.id.as_str().to_owned(),
                reason: "no provider configured".into(),
            })
    }
}
