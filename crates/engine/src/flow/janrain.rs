//! The Janrain transitions: `Acceptable` → `Authorized` (the code exchanged for an access
//! token under the code's lock, or the one a previous attempt kept), `Authorized` → `Done`
//! (`update_profile_native`'s answer). The code's shared state is
//! [`JanrainCodes`]; see `strategy::janrain` for what it records.

use std::sync::Arc;

use passgate_idp::IdpError;

use super::{Attempt, Authorized, JanrainCredential, Step, provider_rejection_key, withheld};
use crate::{
    guarded::GuardedProviders,
    outcome::{Completed, Outcome, Refusal, Unavailable},
    strategy::janrain::{JanrainCodes, Known},
    tenants::TenantRuntime,
};

/// Takes the code's lock, reads its shared state again (another attempt may have finished
/// meanwhile), and redeems it at Janrain if no attempt did before.
pub(super) async fn authorize(
    tenant: Arc<TenantRuntime>,
    code: JanrainCredential,
    providers: &GuardedProviders,
    janrain: &JanrainCodes,
) -> Step {
    let config = &tenant.config;
    let provider = match providers.provider(config).await {
        Ok(provider) => provider,
        Err(err) => return Step::Done(withheld(&err).into()),
    };
    let lock = janrain.lock(&code.digest).await;
    let authorization = match janrain.known(&config.id, &code.digest).await {
        Err(why) => return Step::Done(why.into()),
        Ok(Err(unusable)) => return Step::Done(unusable.refusal.into()),
        Ok(Ok(Known::Authorized(authorization))) => authorization,
        Ok(Ok(Known::Fresh)) => match provider.redeem_reset_code(&code.code).await {
            Ok(authorization) => {
                match janrain
                    .record_redemption(&config.id, &code.digest, &authorization)
                    .await
                {
                    Ok(true) => authorization,
                    // Another replica redeemed it a moment ago: theirs is the one attempt.
                    Ok(false) => return Step::Done(Refusal::LostRace.into()),
                    Err(why) => return Step::Done(why.into()),
                }
            }
            Err(err) if err.is_retryable() => return Step::Done(Unavailable::Provider.into()),
            // Not recorded: a code refused here (e.g. another tenant's) must not be spoiled
            // for the tenant it belongs to.
            Err(_) => return Step::Done(Refusal::CodeRejected.into()),
        },
    };
    Step::Authorized(Box::new(Authorized {
        tenant,
        code,
        provider,
        authorization,
        _lock: lock,
    }))
}

impl Authorized {
    /// Sets the password with the access token; spends the code unless the answer lets the
    /// user try again (a policy rejection, an outage).
    pub(crate) async fn apply(self, janrain: &JanrainCodes, attempt: &Attempt) -> Step {
        let config = &self.tenant.config;
        let tenant = &config.id;
        let answer = self
            .provider
            .set_password_with_authorization(&self.authorization, &attempt.password)
            .await;
        let outcome = match answer {
            Ok(()) => {
                janrain.spend(tenant, &self.code.digest).await;
                Outcome::Completed(Completed {
                    redirect_uri: None,
                    client_id: Some(self.code.client.as_str().to_owned()),
                    locale: config.locales.default.as_str().to_owned(),
                })
            }
            // The access token is kept, sealed: the user corrects the password with the
            // same link, on any replica.
            Err(err) if err.is_policy_rejection() => Outcome::ProviderRejected {
                message_key: provider_rejection_key(&err),
            },
            Err(err) if err.is_ambiguous() => {
                janrain.spend(tenant, &self.code.digest).await;
                Outcome::Unconfirmed {
                    likely_applied: false,
                }
            }
            Err(IdpError::ExpiredToken | IdpError::InvalidCode | IdpError::ExpiredCode) => {
                janrain.spend(tenant, &self.code.digest).await;
                Refusal::Expired.into()
            }
            Err(_) => Unavailable::Provider.into(),
        };
        // The code's lock is released here, with `self`.
        Step::Done(outcome)
    }
}
