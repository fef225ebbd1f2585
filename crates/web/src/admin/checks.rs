//! Tenant documents are checked off the async executor. Parsing, validating and compiling
//! a document (regexes, the JavaScript rule and its examples) is CPU work that can take
//! seconds for a hostile script; run on an executor thread it would stall every other
//! request of the process (`/healthz` included). Each check runs on tokio's blocking pool,
//! behind a semaphore with one slot per core minus one (at least one), so admin work can
//! never occupy every core. A request that finds every slot busy waits briefly, then gets
//! 503 `checks-busy` with `Retry-After`. The per-document CPU budget itself is the policy
//! crate's.

use std::sync::Arc;
use std::time::Duration;

use passgate_tenant::{ClientId, TenantId, ValidatedTenant};
use tokio::sync::Semaphore;

use super::document::check_document;
use super::grants::{SenderRule, sender_rule};
use super::state::AdminState;
use crate::problem::{AdminError, AdminProblem, ConfigProblem};

/// What a document check answers: the validated tenant with its warnings, or every problem.
pub type CheckOutcome = Result<(ValidatedTenant, Vec<ConfigProblem>), Vec<ConfigProblem>>;

/// `Retry-After` of a 503 `checks-busy`.
pub const BUSY_RETRY_SECS: u64 = 5;

/// Concurrent document checks when the settings leave it to the machine: cores − 1, ≥ 1.
pub fn default_slots() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get().saturating_sub(1))
        .max(1)
}

/// The bounded slots document checks run in.
#[derive(Debug, Clone)]
pub(crate) struct DocumentChecks {
    permits: Arc<Semaphore>,
    /// How long a request waits for a free slot before it is answered 503.
    wait: Duration,
}

impl DocumentChecks {
    pub(crate) fn new(slots: usize, wait: Duration) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(slots.max(1))),
            wait,
        }
    }
}

/// What one check needs, owned, so it can move to a blocking thread.
#[derive(Debug)]
pub struct Document {
    /// The tenant the document is for.
    pub tenant: TenantId,
    /// Its registered client ids.
    pub registered: Vec<ClientId>,
    /// The sender domains it may use.
    pub senders: SenderRule,
    /// The YAML.
    pub yaml: String,
}

/// Runs [`check_document`] on the blocking pool within a slot. The slot is held until the
/// check finishes, even if the client has gone: CPU stays bounded either way.
pub async fn check_off_executor(
    state: &AdminState,
    document: Document,
) -> Result<CheckOutcome, AdminError> {
    let checks = state.document_checks();
    let permit =
        match tokio::time::timeout(checks.wait, checks.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            _ => {
                return Err(AdminError::ChecksBusy {
                    retry_after: BUSY_RETRY_SECS,
                });
            }
        };
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        let _slot = permit;
        check_document(
            &state,
            &document.tenant,
            &document.registered,
            &document.senders,
            &document.yaml,
        )
    })
    .await
    .map_err(|err| AdminError::Task(err.to_string()))
}

/// Checks `yaml` as `tenant`'s document against its registered client ids and granted
/// sender domains, off the executor.
pub async fn check_for_tenant(
    state: &AdminState,
    tenant: &TenantId,
    registered: Vec<ClientId>,
    yaml: String,
) -> Result<CheckOutcome, AdminError> {
    let senders = sender_rule(state, tenant).await?;
    let document = Document {
        tenant: tenant.clone(),
        registered,
        senders,
        yaml: yaml.clone(),
    };
    let outcome = check_off_executor(state, document).await?;
    // The YAML's mode must run on the provider the tenant is bound to.
    Ok(match outcome {
        Ok((validated, warnings)) => {
            match super::binding::mode_problem(state, tenant, &validated.config, &yaml).await? {
                None => Ok((validated, warnings)),
                Some(problem) => Err(std::iter::once(problem).chain(warnings).collect()),
            }
        }
        Err(problems) => Err(problems),
    })
}

/// [`check_for_tenant`] as an API answer: 422 `invalid-config` with every problem.
pub async fn validate_for_tenant(
    state: &AdminState,
    tenant: &TenantId,
    registered: Vec<ClientId>,
    yaml: String,
) -> Result<(ValidatedTenant, Vec<ConfigProblem>), AdminProblem> {
    check_for_tenant(state, tenant, registered, yaml)
        .await?
        .map_err(AdminProblem::invalid_config)
}
