//! Row ↔ [`ProviderBinding`]: the typed binding over the tenant row's provider columns (the
//! Janrain flow shares the Auth0 connection's column).

use sea_orm::Set;

use crate::entity::tenants;
use crate::error::{StoreError, StoreResult};
use crate::model::{
    Auth0Binding, EncryptedBlob, JanrainBinding, MovePolicy, MoveSource, ProviderBinding,
};

/// The typed binding of a row. Migration `m20261201_000040_auth0_binding` unbinds half-filled
/// old rows, so a kind without its required fields is corruption, not onboarding.
pub(super) fn binding_from_row(row: &tenants::Model) -> StoreResult<ProviderBinding> {
    let required = |value: &Option<String>, what: &str| {
        value
            .clone()
            .ok_or_else(|| StoreError::corrupt("tenants", format!("provider binding lacks {what}")))
    };
    Ok(match row.provider_kind.as_deref() {
        None => ProviderBinding::Unbound,
        Some("auth0") => ProviderBinding::Auth0(Auth0Binding {
            domain: required(&row.provider_domain, "domain")?,
            canonical_domain: row.provider_canonical_domain.clone(),
            custom_domain: row.provider_custom_domain.clone(),
            connection: required(&row.provider_connection, "connection")?,
            client_id: required(&row.provider_client_id, "client id")?,
            app_client_id: row.provider_app_client_id.clone(),
            new_universal_login: row.provider_new_universal_login,
            audience: row.provider_audience.clone(),
        }),
        Some("janrain") => ProviderBinding::Janrain(JanrainBinding {
            domain: required(&row.provider_domain, "domain")?,
            client_id: required(&row.provider_client_id, "client id")?,
            flow: required(&row.provider_connection, "flow")?,
            flow_version: row.provider_flow_version.clone(),
            password_recover_url: row.provider_password_recover_url.clone(),
        }),
        Some(_) => return Err(StoreError::corrupt("tenants", "unknown provider kind")),
    })
}

/// Writes `binding` onto a row's provider columns; every column is set, so nothing of a
/// previous binding survives a rebinding (the deprecated mode is cleared too).
pub(super) fn set_binding_columns(row: &mut tenants::ActiveModel, binding: ProviderBinding) {
    row.provider_kind = Set(binding.kind().map(str::to_owned));
    row.provider_mode = Set(None);
    let none = || Set(None::<String>);
    let (mut domain, mut connection, mut client_id) = (none(), none(), none());
    let (mut canonical, mut custom, mut app, mut audience) = (none(), none(), none(), none());
    let (mut flow_version, mut recover_url) = (none(), none());
    let mut new_ul = Set(false);
    match binding {
        ProviderBinding::Unbound => {}
        ProviderBinding::Auth0(b) => {
            domain = Set(Some(b.domain));
            connection = Set(Some(b.connection));
            client_id = Set(Some(b.client_id));
            canonical = Set(b.canonical_domain);
            custom = Set(b.custom_domain);
            app = Set(b.app_client_id);
            audience = Set(b.audience);
            new_ul = Set(b.new_universal_login);
        }
        ProviderBinding::Janrain(b) => {
            domain = Set(Some(b.domain));
            connection = Set(Some(b.flow));
            client_id = Set(Some(b.client_id));
            flow_version = Set(b.flow_version);
            recover_url = Set(b.password_recover_url);
        }
    }
    row.provider_domain = domain;
    row.provider_connection = connection;
    row.provider_client_id = client_id;
    row.provider_canonical_domain = canonical;
    row.provider_custom_domain = custom;
    row.provider_app_client_id = app;
    row.provider_audience = audience;
    row.provider_new_universal_login = new_ul;
    row.provider_flow_version = flow_version;
    row.provider_password_recover_url = recover_url;
}

/// The move of a row, if it is on one. A domain without its client id is corruption.
pub(super) fn move_from_row(row: &tenants::Model) -> StoreResult<Option<MoveSource>> {
    match (&row.move_source_domain, &row.move_source_client_id) {
        (None, None) => Ok(None),
        (Some(domain), Some(client_id)) => Ok(Some(MoveSource {
            domain: domain.clone(),
            client_id: client_id.clone(),
            policy: MovePolicy {
                reset_source_too: row.move_reset_source_too,
                migrate_on_reset: row.move_migrate_on_reset,
                dry_run: row.move_dry_run,
            },
        })),
        _ => Err(StoreError::corrupt(
            "tenants",
            "move lacks its domain or client id",
        )),
    }
}

/// Writes a move (or, with `None`, clears every column of one, its secret included).
pub(super) fn set_move_columns(
    row: &mut tenants::ActiveModel,
    moving: Option<(MoveSource, EncryptedBlob)>,
) {
    let (source, secret) = match moving {
        Some((source, secret)) => (Some(source), Some(secret)),
        None => (None, None),
    };
    let policy = source.as_ref().map(|s| s.policy).unwrap_or_default();
    row.move_reset_source_too = Set(policy.reset_source_too);
    row.move_migrate_on_reset = Set(policy.migrate_on_reset);
    row.move_dry_run = Set(policy.dry_run);
    let (domain, client_id) = source.map(|s| (s.domain, s.client_id)).unzip();
    row.move_source_domain = Set(domain);
    row.move_source_client_id = Set(client_id);
    let (ciphertext, nonce, key_id) = match secret {
        Some(s) => (Some(s.ciphertext), Some(s.nonce), Some(s.key_id)),
        None => (None, None, None),
    };
    row.move_secret_ciphertext = Set(ciphertext);
    row.move_secret_nonce = Set(nonce);
    row.move_secret_key_id = Set(key_id);
}
