//! A tenant's move from Janrain to Auth0 on the admin API (issue 19): platform admins start,
//! change and end it; editors of the tenant read its report.

use passgate_store::{MovePolicy, MoveSource};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use secrecy::SecretString;

use super::auth::{AdminAuth, require_platform_admin, require_tenant};
use super::cases::move_tenant::{self, MoveCounts};
use super::state::AdminState;
use super::strict::Text;
use super::tags::Tags;
use super::tenants::Done;
use crate::problem::AdminProblem;

/// The Janrain app a tenant bound to Auth0 is moving from, and how resets treat each
/// account. The secret is write-only.
#[derive(Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct MoveInput {
    /// Capture domain of the Janrain app, e.g. `acme.us.janraincapture.com` (checked against
    /// the allowed hosts).
    #[oai(validator(min_length = 1, max_length = 253))]
    pub source_domain: Text,
    /// An API client with the `owner` or `direct_access` feature (reads accounts by email,
    /// sets passwords).
    #[oai(validator(min_length = 1, max_length = 128))]
    pub source_client_id: Text,
    /// Its secret: stored sealed (AES-256-GCM), never returned.
    #[oai(write_only, validator(min_length = 1, max_length = 512))]
    pub source_client_secret: Text,
    /// An account in both also gets the new password in Janrain (default false).
    pub reset_source_too: Option<bool>,
    /// An account only in Janrain is created in Auth0 with the new password and its profile;
    /// the Janrain account is left as it is (default false).
    pub migrate_on_reset: Option<bool>,
    /// Serve every reset from Janrain alone while Auth0 is only asked, to read the report
    /// before anything changes (default false).
    pub dry_run: Option<bool>,
}

impl std::fmt::Debug for MoveInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MoveInput")
            .field("source_domain", &self.source_domain)
            .field("source_client_id", &self.source_client_id)
            .finish_non_exhaustive()
    }
}

/// Where a moving tenant's recent look-ups found the addresses and where its new passwords
/// went.
#[derive(Debug, Clone, Object)]
pub struct MoveReport {
    /// Requests counted (the newest ones whose look-up ran on the move, at most `last`).
    pub requests: u32,
    /// Found only in Auth0.
    pub target_only: u32,
    /// Found only in Janrain: the users still to move.
    pub source_only: u32,
    /// Found in both.
    pub both: u32,
    /// Found in neither (unknown addresses).
    pub neither: u32,
    /// Among the same events: new passwords set in Auth0.
    pub served_by_target: u32,
    /// New passwords set in Janrain.
    pub served_by_source: u32,
    /// New passwords set in both.
    pub served_by_both: u32,
    /// Accounts created in Auth0 on reset.
    pub migrated: u32,
    /// The report in one sentence, e.g. "of the last 200 requests, 37 found only in Janrain".
    pub summary: String,
}

impl From<MoveCounts> for MoveReport {
    fn from(c: MoveCounts) -> Self {
        Self {
            summary: format!(
                "of the last {} requests, {} found only in Janrain, {} in both, {} only in \
                 Auth0, {} in neither",
                c.requests, c.source_only, c.both, c.target_only, c.neither
            ),
            requests: c.requests,
            target_only: c.target_only,
            source_only: c.source_only,
            both: c.both,
            neither: c.neither,
            served_by_target: c.served_by_target,
            served_by_source: c.served_by_source,
            served_by_both: c.served_by_both,
            migrated: c.migrated,
        }
    }
}

/// Answer of reading a move's report.
#[derive(Debug, ApiResponse)]
pub enum MoveReportResponse {
    /// The counts.
    #[oai(status = 200)]
    Ok(Json<MoveReport>),
}

/// Moves from Janrain to Auth0.
#[derive(Debug)]
pub struct MovesApi;

fn parse_tenant(raw: &str) -> Result<passgate_tenant::TenantId, AdminProblem> {
    passgate_tenant::TenantId::parse(raw).map_err(|_| AdminProblem::not_found("tenant"))
}

#[OpenApi(tag = "Tags::Tenants")]
impl MovesApi {
    /// Start or change a move from Janrain
    ///
    /// The tenant must be bound to Auth0 (the target) and run in hosted mode. From the next
    /// reset on, every address is looked up in both providers and reset where it lives;
    /// the policy says what happens to accounts in both or only in Janrain.
    #[oai(
        path = "/tenants/:tenant/move",
        method = "put",
        operation_id = "setTenantMove"
    )]
    async fn set(
        &self,
        auth: AdminAuth,
        state: Data<&AdminState>,
        /// Tenant id.
        tenant: Path<String>,
        body: Json<MoveInput>,
    ) -> Result<Done, AdminProblem> {
        let state = *state;
        require_platform_admin(state, &auth.0, "setTenantMove").await?;
        let id = parse_tenant(&tenant.0)?;
        let input = body.0;
        let source = MoveSource {
            domain: input.source_domain.into_string(),
            client_id: input.source_client_id.into_string(),
            policy: MovePolicy {
                reset_source_too: input.reset_source_too.unwrap_or(false),
                migrate_on_reset: input.migrate_on_reset.unwrap_or(false),
                dry_run: input.dry_run.unwrap_or(false),
            },
        };
        let secret = SecretString::from(input.source_client_secret.into_string());
        move_tenant::set_move(state, &auth.0, &id, source, &secret).await?;
        Ok(Done::NoContent)
    }

    /// End a move
    ///
    /// The tenant is served by its Auth0 binding alone from now on; the Janrain secret is
    /// erased. Janrain accounts are never deleted.
    #[oai(
        path = "/tenants/:tenant/move",
        method = "delete",
        operation_id = "endTenantMove"
    )]
    async fn end(
        &self,
        auth: AdminAuth,
        state: Data<&AdminState>,
        /// Tenant id.
        tenant: Path<String>,
    ) -> Result<Done, AdminProblem> {
        let state = *state;
        require_platform_admin(state, &auth.0, "endTenantMove").await?;
        let id = parse_tenant(&tenant.0)?;
        move_tenant::end_move(state, &auth.0, &id).await?;
        Ok(Done::NoContent)
    }

    /// Where recent requests found their accounts
    ///
    /// Of the last `last` requests whose look-up ran on the move (a dry run included), how
    /// many addresses were found only in Janrain, in both, only in Auth0 or nowhere, and
    /// where the new passwords went. Addresses are never recorded, only these counts.
    #[oai(
        path = "/tenants/:tenant/move/report",
        method = "get",
        operation_id = "tenantMoveReport"
    )]
    async fn report(
        &self,
        auth: AdminAuth,
        state: Data<&AdminState>,
        /// Tenant id.
        tenant: Path<String>,
        /// Requests to count, newest first (default 1000, at most 100000).
        #[oai(validator(minimum(value = "1"), maximum(value = "100000")))]
        last: Query<Option<u32>>,
    ) -> Result<MoveReportResponse, AdminProblem> {
        let state = *state;
        let id = require_tenant(state, &auth.0, &tenant.0, "tenantMoveReport").await?;
        let counts = move_tenant::move_report(state, &id, last.0.unwrap_or(1000)).await?;
        Ok(MoveReportResponse::Ok(Json(counts.into())))
    }
}
