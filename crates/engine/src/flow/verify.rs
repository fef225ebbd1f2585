//! `Presented` → `Verified`: finds the row (or the Janrain code's shared state), checks its
//! state and its tenant. Changes nothing, except counting a wrong code on its flow.

use passgate_store::{Sha256Digest, TokenPurpose};
use passgate_tenant::ClientId;

use super::{JanrainCredential, Presented, Usable, Verified};
use crate::{
    outcome::{Refusal, Stopped, Unavailable},
    strategy::{self, Redemption, janrain::JanrainCodes},
    tenants::TenantDirectory,
    tokens::{ReadFailure, Tokens},
};

/// The row under `hash`, or why there is none to use.
async fn lookup(
    tokens: &Tokens,
    hash: &Sha256Digest,
) -> Result<passgate_store::ResetToken, Stopped> {
    match tokens.find(hash).await {
        Ok(Some(row)) => Ok(row),
        Ok(None) => Err(Stopped::anonymous(Refusal::Unknown)),
        Err(ReadFailure::Unavailable) => Err(Stopped::anonymous(Unavailable::Database)),
        Err(ReadFailure::Unsealable(row)) => Err(Stopped::at(&row, Refusal::Unsealable)),
    }
}

impl Presented {
    /// Verifies the credential. `code_max_attempts` is how many wrong codes kill a flow.
    pub(crate) async fn verify(
        self,
        tokens: &Tokens,
        tenants: &dyn TenantDirectory,
        janrain: &JanrainCodes,
        code_max_attempts: u32,
    ) -> Result<Verified, Stopped> {
        let now = tokens.now();
        let row = match self {
            Self::Link(token) => {
                let token = token.ok_or(Stopped::anonymous(Refusal::Malformed))?;
                let row = lookup(tokens, &tokens.link_key(&token)).await?;
                if row.purpose != TokenPurpose::Link {
                    return Err(Stopped::anonymous(Refusal::Unknown));
                }
                if let Some(refusal) = Refusal::of_row(&row, now) {
                    return Err(Stopped::at(&row, refusal));
                }
                row
            }
            Self::Code(flow, code) => {
                let flow = flow.ok_or(Stopped::anonymous(Refusal::Malformed))?;
                let flow_key = tokens.flow_key(&flow);
                let row = lookup(tokens, &flow_key).await?;
                if let Some(refusal) = Refusal::of_row(&row, now) {
                    return Err(Stopped::at(&row, refusal));
                }
                let proven = match code {
                    Some(code) => tokens
                        .proves(&tokens.code_key(&flow, &code), &row)
                        .await
                        .map_err(|_| Stopped::at(&row, Unavailable::Database))?,
                    None => false,
                };
                if !proven {
                    let _ = tokens
                        .count_failure(&row.tenant_id, &flow_key, code_max_attempts)
                        .await;
                    return Err(Stopped::at(&row, Refusal::WrongCode));
                }
                row
            }
            Self::Janrain { client, code } => {
                return verify_janrain(&client, code, tenants, janrain).await;
            }
        };
        let tenant = tenants
            .by_client(&row.client_id)
            .await
            .map_err(|_| Stopped::at(&row, Unavailable::Tenants))?
            .ok_or_else(|| Stopped::at(&row, Refusal::TenantGone))?;
        if tenant.config.id != row.tenant_id {
            return Err(Stopped::at(&row, Refusal::TenantMismatch));
        }
        Ok(Verified {
            tenant,
            usable: Usable::Row(Box::new(row)),
        })
    }
}

/// A Janrain code through `client`'s landing page: the client names a Janrain tenant, and
/// the code is not spent, expired, or redeemed for another tenant. Refused before that
/// tenant's rules or any provider call.
async fn verify_janrain(
    client: &str,
    code: secrecy::SecretString,
    tenants: &dyn TenantDirectory,
    janrain: &JanrainCodes,
) -> Result<Verified, Stopped> {
    let client = ClientId::parse(client).map_err(|_| Stopped::anonymous(Refusal::Malformed))?;
    let tenant = tenants
        .by_client(&client)
        .await
        .map_err(|_| Stopped::anonymous(Unavailable::Tenants))?
        .ok_or(Stopped::anonymous(Refusal::Unknown))?;
    if strategy::for_tenant(&tenant.config).redemption() != Redemption::ProviderCode {
        return Err(Stopped::anonymous(Refusal::WrongMode));
    }
    let digest = janrain.digest(&code);
    match janrain.known(&tenant.config.id, &digest).await {
        Ok(Ok(_)) => Ok(Verified {
            tenant,
            usable: Usable::Janrain(JanrainCredential {
                client,
                code,
                digest,
            }),
        }),
        Ok(Err(unusable)) => Err(Stopped::of_tenant(&unusable.owner, unusable.refusal)),
        Err(why) => Err(Stopped::of_tenant(&tenant.config.id, why)),
    }
}
