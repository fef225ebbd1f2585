//! Provider bindings on the admin API: the request body becomes the store's typed
//! [`ProviderBinding`], checked exactly as the provider client will check it (so a stored
//! binding always builds), and the reset mode is checked against the provider it runs on
//! (issue 14 item 5). The mode itself lives in the tenant YAML; a `mode` in the binding body
//! is deprecated, still read, and must fit too.

use passgate_idp::domain::{
    AUTH0_PLATFORM_SUFFIXES, JANRAIN_PLATFORM_SUFFIXES, check_provider_host,
};
use passgate_idp::{Auth0Config, HttpConfig, IdpError};
use passgate_store::{
    Auth0Binding, ConfigVersionRepo, JanrainBinding, ProviderBinding, TenantRepo,
};
use passgate_tenant::{ProviderFamily, ResetMode, TenantId, check_mode_fits, declared_reset_mode};
use secrecy::SecretString;

use super::state::AdminState;
use super::strict::Text;
use super::tenant_input::{ProviderInput, ProviderKind, ResetModeName};
use crate::problem::{AdminError, AdminProblem, Code, ConfigProblem};

fn invalid_binding(detail: impl Into<String>) -> AdminProblem {
    Code::ProviderBindingInvalid.detail(detail).into()
}

fn domain_refused() -> AdminProblem {
    Code::ProviderDomainRefused
        .detail("the domain is not a known provider domain or an allowed custom domain")
        .into()
}

/// A binding body, checked.
pub(crate) struct CheckedBinding {
    /// What to store.
    pub binding: ProviderBinding,
    /// The management client secret, if the body carried one.
    pub secret: Option<SecretString>,
    /// The deprecated `mode` of the body (already checked against the provider).
    pub legacy_mode: Option<ResetMode>,
}

/// The provider family of a stored binding.
pub(crate) fn family_of(binding: &ProviderBinding) -> Option<ProviderFamily> {
    binding.kind().and_then(ProviderFamily::parse)
}

fn text(value: Option<Text>) -> Option<String> {
    value.map(Text::into_string)
}

fn mode_of(name: ResetModeName) -> ResetMode {
    match name {
        ResetModeName::Hosted => ResetMode::Hosted,
        ResetModeName::Auth0Ticket => ResetMode::Auth0Ticket,
        ResetModeName::Auth0Email => ResetMode::Auth0Email,
        ResetModeName::Janrain => ResetMode::Janrain,
    }
}

/// Checks a binding body: the domain against the allowed hosts, the fields against the
/// provider (an Auth0 field on a Janrain binding is refused, not ignored), every combination
/// the provider client refuses, and the deprecated `mode` against the provider.
pub(crate) fn binding_of(
    state: &AdminState,
    input: ProviderInput,
) -> Result<CheckedBinding, AdminProblem> {
    let family = match input.kind {
        ProviderKind::Auth0 => ProviderFamily::Auth0,
        ProviderKind::Janrain => ProviderFamily::Janrain,
    };
    let legacy_mode = input.mode.map(mode_of);
    if let Some(mode) = legacy_mode {
        tracing::warn!(
            target: "passgate::admin",
            mode = mode.as_str(),
            "provider binding `mode` is deprecated: the tenant YAML's reset.mode decides"
        );
        fit(mode, family)?;
    }
    let secret = input
        .management_client_secret
        .map(|s| SecretString::from(s.into_string()));
    let hosts = &state.settings().provider_hosts;
    let binding = match family {
        ProviderFamily::Auth0 => {
            if input.flow_version.is_some() || input.password_recover_url.is_some() {
                return Err(invalid_binding(
                    "flow_version and password_recover_url are Janrain settings; an Auth0 \
                     binding does not take them",
                ));
            }
            let connection = text(input.connection).ok_or_else(|| {
                invalid_binding("an Auth0 binding needs `connection`, the database connection")
            })?;
            let binding = Auth0Binding {
                domain: input.domain.into_string(),
                canonical_domain: text(input.canonical_domain),
                custom_domain: text(input.custom_domain),
                connection,
                client_id: input.management_client_id.into_string(),
                app_client_id: text(input.app_client_id),
                new_universal_login: input.new_universal_login.unwrap_or(false),
                audience: text(input.audience),
            };
            check_auth0(&binding, hosts)?;
            ProviderBinding::Auth0(binding)
        }
        ProviderFamily::Janrain => {
            let auth0_only = input.canonical_domain.is_some()
                || input.custom_domain.is_some()
                || input.app_client_id.is_some()
                || input.new_universal_login.is_some()
                || input.audience.is_some();
            if auth0_only {
                return Err(invalid_binding(
                    "canonical_domain, custom_domain, app_client_id, new_universal_login and \
                     audience are Auth0 settings; a Janrain binding does not take them",
                ));
            }
            check_provider_host(&input.domain, JANRAIN_PLATFORM_SUFFIXES, hosts)
                .map_err(|_| domain_refused())?;
            let recover_url = text(input.password_recover_url);
            if let Some(url) = &recover_url {
                check_recover_url(state, url)?;
            }
            ProviderBinding::Janrain(JanrainBinding {
                domain: input.domain.into_string(),
                client_id: input.management_client_id.into_string(),
                flow: text(input.connection).unwrap_or_else(|| "standard".into()),
                flow_version: text(input.flow_version),
                password_recover_url: recover_url,
            })
        }
    };
    Ok(CheckedBinding {
        binding,
        secret,
        legacy_mode,
    })
}

/// What [`passgate_idp::Auth0Client::new`] would refuse, refused now (no secret is needed
/// for the check, so a placeholder stands in).
fn check_auth0(
    binding: &Auth0Binding,
    hosts: &passgate_idp::HostPolicy,
) -> Result<(), AdminProblem> {
    check_provider_host(&binding.domain, AUTH0_PLATFORM_SUFFIXES, hosts)
        .map_err(|_| domain_refused())?;
    let config = Auth0Config {
        domain: binding.domain.clone(),
        canonical_domain: binding.canonical_domain.clone(),
        custom_domain: binding.custom_domain.clone(),
        client_id: binding.client_id.clone(),
        app_client_id: binding.app_client_id.clone(),
        new_universal_login: binding.new_universal_login,
        client_secret: SecretString::from("placeholder"),
        connection: binding.connection.clone(),
        audience: binding.audience.clone(),
        hosts: hosts.clone(),
        http: HttpConfig::default(),
    };
    match config.check() {
        Ok(()) => Ok(()),
        Err(IdpError::DomainNotAllowed { .. }) => Err(domain_refused()),
        Err(IdpError::InvalidConfig { reason }) => Err(invalid_binding(reason)),
        Err(other) => Err(invalid_binding(other.to_string())),
    }
}

/// Capture mails the client's `password_recover_url`; for the code to reach Passgate it must
/// be Passgate's Janrain landing page.
fn check_recover_url(state: &AdminState, url: &str) -> Result<(), AdminProblem> {
    let landing = format!(
        "{}/reset/janrain?",
        state.settings().public_origin.trim_end_matches('/')
    );
    if url.starts_with(&landing) && url.contains("client_id=") {
        Ok(())
    } else {
        Err(invalid_binding(format!(
            "password_recover_url is the link Capture mails: it must be Passgate's landing page \
             {landing}client_id=<one of the tenant's client ids>"
        )))
    }
}

/// 422 `mode-provider-mismatch` when `mode` cannot run on `family`.
pub(crate) fn fit(mode: ResetMode, family: ProviderFamily) -> Result<(), AdminError> {
    check_mode_fits(mode, family).map_err(|mismatch| AdminError::ModeMismatch(mismatch.to_string()))
}

/// Checks a new binding against the tenant's active YAML (a rebinding to another provider
/// must not leave a mode that cannot run).
pub(crate) async fn fit_active_config(
    state: &AdminState,
    tenant: &TenantId,
    binding: &ProviderBinding,
) -> Result<(), AdminError> {
    let Some(family) = family_of(binding) else {
        return Ok(());
    };
    let Some(active) = state.store().active_version(tenant).await? else {
        return Ok(());
    };
    match declared_reset_mode(&active.yaml) {
        Some(mode) => fit(mode, family),
        None => Ok(()),
    }
}

/// The problem a config write gets when its `reset.mode` does not fit the stored binding
/// (`None` when it fits or the tenant is unbound).
pub(crate) async fn mode_problem(
    state: &AdminState,
    tenant: &TenantId,
    config: &passgate_tenant::TenantConfig,
    yaml: &str,
) -> Result<Option<ConfigProblem>, AdminError> {
    let Some(row) = state.store().tenant(tenant).await? else {
        return Ok(None);
    };
    if row.moving_from.is_some() && config.reset.mode != ResetMode::Hosted {
        let (line, column) = crate::tenant_check::position_in(yaml, "reset", "mode");
        return Ok(Some(ConfigProblem::from_problem(
            &passgate_tenant::Problem {
                path: "reset.mode".to_owned(),
                line,
                column,
                message: format!(
                    "the tenant is moving from Janrain to Auth0: its reset mode must stay `hosted` \
                 (Passgate looks the address up in both and sets the password where the \
                 account lives) until the move ends (DELETE /tenants/{{tenant}}/move); \
                 reset.mode is `{}`",
                    config.reset.mode.as_str()
                ),
                severity: passgate_tenant::Severity::Error,
            },
        )));
    }
    let Some(family) = family_of(&row.provider) else {
        return Ok(None);
    };
    Ok(
        crate::tenant_check::provider_problem(config, family, Some(yaml))
            .map(|problem| ConfigProblem::from_problem(&problem)),
    )
}
