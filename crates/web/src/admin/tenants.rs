//! Platform admins onboard and manage tenants: create (with client ids, provider binding,
//! sealed provider secret and an initial YAML), list, get, update, disable/enable, delete,
//! client ids, and secret rotation. Sender domains and test recipients are in
//! [`super::grants`]. The provider secret is write-only: no response carries
//! it, only `has_secret`.

use passgate_store::{ClientIdRepo, ConfigVersionRepo, TenantRepo, TenantStatus};
use passgate_tenant::{ClientId, TenantId};
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use secrecy::SecretString;

use super::auth::{AdminAuth, require_platform_admin};
use super::binding::{CheckedBinding, binding_of, family_of};
use super::cases::create_tenant::{NewTenant, create_tenant};
use super::cases::manage_tenant;
use super::cases::update_tenant::{TenantEdit, update_tenant};
use super::grants::normalize_domain;
use super::state::AdminState;
use super::strict::Text;
use super::tags::Tags;
pub use super::tenant_input::{
    ClientIdInput, CreateTenant, ProviderInput, ProviderKind, ResetModeName, SecretInput,
    UpdateTenant,
};
use super::views::TenantView;
use crate::problem::{AdminProblem, Code};

/// Answer of tenant creation.
#[derive(Debug, ApiResponse)]
pub enum CreatedTenant {
    /// The tenant was created with version 1 of its YAML active.
    #[oai(status = 201)]
    Created(Json<TenantView>),
}

/// Answer of reading or changing one tenant.
#[derive(Debug, ApiResponse)]
pub enum TenantResponse {
    /// The tenant as it is now.
    #[oai(status = 200)]
    Ok(Json<TenantView>),
}

/// Answer of listing tenants.
#[derive(Debug, ApiResponse)]
pub enum TenantList {
    /// Every tenant, sorted by id.
    #[oai(status = 200)]
    Ok(Json<Vec<TenantView>>),
}

/// Answer of a change that returns nothing.
#[derive(Debug, ApiResponse)]
pub enum Done {
    /// Done.
    #[oai(status = 204)]
    NoContent,
}

/// Answer of registering a client id.
#[derive(Debug, ApiResponse)]
pub enum ClientIdAdded {
    /// Registered; the tenant as it is now.
    #[oai(status = 201)]
    Created(Json<TenantView>),
}

/// Tenant management (platform admins).
#[derive(Debug)]
pub struct TenantsApi;

fn parse_tenant(raw: &str) -> Result<TenantId, AdminProblem> {
    TenantId::parse(raw).map_err(|_| AdminProblem::not_found("tenant"))
}

fn parse_client_id(raw: &str) -> Result<ClientId, AdminProblem> {
    ClientId::parse(raw).map_err(|e| {
        AdminProblem::from(Code::InvalidClientId.detail(format!(
            "client id `{}` is invalid: {e}",
            raw.escape_default()
        )))
    })
}

/// The minimal document a tenant starts with when the admin gives none.
pub fn default_yaml(
    id: &TenantId,
    display_name: &str,
    client_ids: &[ClientId],
    mode: &str,
) -> String {
    let name = serde_json::to_string(display_name).unwrap_or_else(|_| "\"App\"".into());
    let ids: Vec<&str> = client_ids.iter().map(ClientId::as_str).collect();
    let ids = serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into());
    format!(
        "# Created by the admin API; edit with PUT /admin/v1/tenants/{id}/config.\n\
         id: {id}\n\
         display_name: {name}\n\
         client_ids: {ids}\n\
         theme: default\n\
         locales:\n  default: en\n  supported: [en]\n\
         reset:\n  mode: {mode}\n"
    )
}

/// Loads the view of one tenant, or 404.
pub(crate) async fn load_view(
    state: &AdminState,
    id: &TenantId,
) -> Result<TenantView, AdminProblem> {
    let store = state.store();
    let tenant = store
        .tenant(id)
        .await?
        .ok_or_else(|| AdminProblem::not_found("tenant"))?;
    let client_ids = store.client_ids(id).await?;
    let active = store.active_version(id).await?.map(|v| v.info.version);
    Ok(TenantView::new(tenant, client_ids, active))
}

#[OpenApi(prefix_path = "/tenants", tag = "Tags::Tenants")]
impl TenantsApi {
    /// Create a tenant
    ///
    /// Registers the tenant with its client ids, provider binding (secret sealed at rest)
    /// and an initial YAML (validated like any config write), activated as version 1.
    #[oai(path = "/", method = "post", operation_id = "createTenant")]
    async fn create(
        &self,
        auth: AdminAuth,
        state: poem::web::Data<&AdminState>,
        body: Json<CreateTenant>,
    ) -> Result<CreatedTenant, AdminProblem> {
        let state = *state;
        require_platform_admin(state, &auth.0, "createTenant").await?;
        let body = body.0;
        let id = TenantId::parse(&body.id)
            .map_err(|e| AdminProblem::from(Code::InvalidTenantId.detail(e.to_string())))?;
        let client_ids = body
            .client_ids
            .iter()
            .map(|c| parse_client_id(c))
            .collect::<Result<Vec<_>, _>>()?;
        let (binding, secret, legacy_mode) = match body.provider {
            Some(input) => {
                let CheckedBinding {
                    binding,
                    secret,
                    legacy_mode,
                } = binding_of(state, input)?;
                (Some(binding), secret, legacy_mode)
            }
            None => (None, None, None),
        };
        let family = binding.as_ref().and_then(family_of);
        // The default document's mode: the deprecated binding mode, else one that fits.
        let mode = legacy_mode
            .or_else(|| family.and_then(|f| f.modes().first().copied()))
            .unwrap_or_default();
        let yaml = body
            .yaml
            .map(Text::into_string)
            .unwrap_or_else(|| default_yaml(&id, &body.display_name, &client_ids, mode.as_str()));
        let sender_domains = body
            .sender_domains
            .iter()
            .map(|d| normalize_domain(d))
            .collect::<Result<Vec<_>, _>>()?;
        let new = NewTenant {
            id: id.clone(),
            display_name: body.display_name.into_string(),
            client_ids,
            provider: binding,
            secret,
            yaml,
            sender_domains,
        };
        create_tenant(state, &auth.0, new).await?;
        Ok(CreatedTenant::Created(Json(load_view(state, &id).await?)))
    }

    /// List tenants
    #[oai(path = "/", method = "get", operation_id = "listTenants")]
    async fn list(
        &self,
        auth: AdminAuth,
        state: poem::web::Data<&AdminState>,
    ) -> Result<TenantList, AdminProblem> {
        require_platform_admin(*state, &auth.0, "listTenants").await?;
        let all = state.store().list_tenants().await?;
        Ok(TenantList::Ok(Json(
            all.into_iter()
                .map(|s| TenantView::new(s.tenant, s.client_ids, s.active_version))
                .collect(),
        )))
    }

    /// Get a tenant
    #[oai(path = "/:tenant", method = "get", operation_id = "getTenant")]
    async fn get(
        &self,
        auth: AdminAuth,
        state: poem::web::Data<&AdminState>,
        /// Tenant id.
        tenant: Path<String>,
    ) -> Result<TenantResponse, AdminProblem> {
        require_platform_admin(*state, &auth.0, "getTenant").await?;
        let id = parse_tenant(&tenant.0)?;
        Ok(TenantResponse::Ok(Json(load_view(*state, &id).await?)))
    }

    /// Update a tenant
    ///
    /// Renames it or replaces its provider binding. A secret in the binding replaces the
    /// stored one; without it the stored secret stays.
    #[oai(path = "/:tenant", method = "patch", operation_id = "updateTenant")]
    async fn update(
        &self,
        auth: AdminAuth,
        state: poem::web::Data<&AdminState>,
        /// Tenant id.
        tenant: Path<String>,
        body: Json<UpdateTenant>,
    ) -> Result<TenantResponse, AdminProblem> {
        let state = *state;
        require_platform_admin(state, &auth.0, "updateTenant").await?;
        let id = parse_tenant(&tenant.0)?;
        load_view(state, &id).await?;
        let body = body.0;
        let edit = TenantEdit {
            display_name: body.display_name.map(Text::into_string),
            binding: body.provider.map(|p| binding_of(state, p)).transpose()?,
        };
        update_tenant(state, &auth.0, &id, edit).await?;
        Ok(TenantResponse::Ok(Json(load_view(state, &id).await?)))
    }

    /// Disable a tenant
    ///
    /// Its apps stop being served (requests answer as for a disabled app); data stays.
    #[oai(
        path = "/:tenant/disable",
        method = "post",
        operation_id = "disableTenant"
    )]
    async fn disable(
        &self,
        auth: AdminAuth,
        state: poem::web::Data<&AdminState>,
        /// Tenant id.
        tenant: Path<String>,
    ) -> Result<TenantResponse, AdminProblem> {
        set_status(*state, &auth, &tenant.0, TenantStatus::Disabled).await
    }

    /// Re-enable a tenant
    #[oai(
        path = "/:tenant/enable",
        method = "post",
        operation_id = "enableTenant"
    )]
    async fn enable(
        &self,
        auth: AdminAuth,
        state: poem::web::Data<&AdminState>,
        /// Tenant id.
        tenant: Path<String>,
    ) -> Result<TenantResponse, AdminProblem> {
        set_status(*state, &auth, &tenant.0, TenantStatus::Active).await
    }

    /// Delete a tenant
    ///
    /// Deletes the tenant and everything that belongs to it; its audit events stay.
    #[oai(path = "/:tenant", method = "delete", operation_id = "deleteTenant")]
    async fn delete(
        &self,
        auth: AdminAuth,
        state: poem::web::Data<&AdminState>,
        /// Tenant id.
        tenant: Path<String>,
    ) -> Result<Done, AdminProblem> {
        let state = *state;
        require_platform_admin(state, &auth.0, "deleteTenant").await?;
        let id = parse_tenant(&tenant.0)?;
        manage_tenant::delete_tenant(state, &auth.0, &id).await?;
        Ok(Done::NoContent)
    }

    /// Register a client id
    #[oai(
        path = "/:tenant/client-ids",
        method = "post",
        operation_id = "addClientId"
    )]
    async fn add_client_id(
        &self,
        auth: AdminAuth,
        state: poem::web::Data<&AdminState>,
        /// Tenant id.
        tenant: Path<String>,
        body: Json<ClientIdInput>,
    ) -> Result<ClientIdAdded, AdminProblem> {
        let state = *state;
        require_platform_admin(state, &auth.0, "addClientId").await?;
        let id = parse_tenant(&tenant.0)?;
        let client = parse_client_id(&body.0.client_id)?;
        manage_tenant::add_client_id(state, &auth.0, &id, &client).await?;
        Ok(ClientIdAdded::Created(Json(load_view(state, &id).await?)))
    }

    /// Remove a client id
    #[oai(
        path = "/:tenant/client-ids/:client_id",
        method = "delete",
        operation_id = "removeClientId"
    )]
    async fn remove_client_id(
        &self,
        auth: AdminAuth,
        state: poem::web::Data<&AdminState>,
        /// Tenant id.
        tenant: Path<String>,
        /// The client id to remove.
        client_id: Path<String>,
    ) -> Result<Done, AdminProblem> {
        let state = *state;
        require_platform_admin(state, &auth.0, "removeClientId").await?;
        let id = parse_tenant(&tenant.0)?;
        let client =
            ClientId::parse(&client_id.0).map_err(|_| AdminProblem::not_found("client id"))?;
        manage_tenant::remove_client_id(state, &auth.0, &id, &client).await?;
        Ok(Done::NoContent)
    }

    /// Rotate the provider secret
    ///
    /// Seals the new management client secret under the active master key and replaces the
    /// stored one. Write-only: no endpoint returns it.
    #[oai(
        path = "/:tenant/provider-secret",
        method = "put",
        operation_id = "rotateProviderSecret"
    )]
    async fn rotate_secret(
        &self,
        auth: AdminAuth,
        state: poem::web::Data<&AdminState>,
        /// Tenant id.
        tenant: Path<String>,
        body: Json<SecretInput>,
    ) -> Result<Done, AdminProblem> {
        let state = *state;
        require_platform_admin(state, &auth.0, "rotateProviderSecret").await?;
        let id = parse_tenant(&tenant.0)?;
        let secret = SecretString::from(body.0.secret.into_string());
        manage_tenant::rotate_provider_secret(state, &auth.0, &id, &secret).await?;
        Ok(Done::NoContent)
    }
}

async fn set_status(
    state: &AdminState,
    auth: &AdminAuth,
    tenant: &str,
    status: TenantStatus,
) -> Result<TenantResponse, AdminProblem> {
    let operation = match status {
        TenantStatus::Active => "enableTenant",
        TenantStatus::Disabled => "disableTenant",
    };
    require_platform_admin(state, &auth.0, operation).await?;
    let id = parse_tenant(tenant)?;
    manage_tenant::set_status(state, &auth.0, &id, status).await?;
    Ok(TenantResponse::Ok(Json(load_view(state, &id).await?)))
}
