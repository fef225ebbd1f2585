//! A tenant's mail grants: the sender domains its `email.from` may use and the addresses
//! test mails may go to. Each list is replaced in one store write and audited (recipients
//! masked).

use passgate_store::{MailGrant, MailGrantRepo, TenantRepo};
use passgate_tenant::TenantId;
use serde_json::json;

use crate::admin::auth::Principal;
use crate::admin::state::AdminState;
use crate::problem::AdminError;
use passgate_engine::email_address::mask;

/// Replaces `tenant`'s `grant` list with `values` (already normalised). Audited as
/// `tenant.sender_domains.set` or `tenant.test_recipients.set`.
pub(crate) async fn set_mail_grants(
    state: &AdminState,
    actor: &Principal,
    tenant: &TenantId,
    grant: MailGrant,
    values: &[String],
) -> Result<(), AdminError> {
    if state.store().tenant(tenant).await?.is_none() {
        return Err(AdminError::NotFound("tenant"));
    }
    state
        .store()
        .set_mail_grants(tenant, grant, values, state.now())
        .await?;
    let (action, details) = match grant {
        MailGrant::SenderDomain => ("tenant.sender_domains.set", json!({ "domains": values })),
        MailGrant::TestRecipient => {
            let masked: Vec<String> = values.iter().map(|r| mask(r)).collect();
            (
                "tenant.test_recipients.set",
                json!({ "recipients": masked }),
            )
        }
    };
    state.audit(actor, Some(tenant), action, details).await;
    Ok(())
}
