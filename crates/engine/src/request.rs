//! The request step: "send me a reset link". It answers the same [`RequestAccepted`] for
//! every account — existing, unknown, blocked, social-only, rate-limited, malformed, or while
//! the provider or SMTP is down — because it never looks at the account: it counts the rate
//! limits (keys derived from the submitted text only), stores one durable job, and pads its
//! answer to a constant floor. The provider lookup, token and mail happen in the job worker.

use std::net::IpAddr;

use passgate_tenant::ClientId;

use crate::{
    email_address::SubmittedEmail,
    engine::Engine,
    error::RequestError,
    jobs::{RequestJob, Verdict},
    rate_limit::LimitHit,
    secret_token::FlowId,
};

/// A reset request as the web layer received it.
#[derive(Clone)]
pub struct RequestInput {
    /// The app's client id, as sent.
    pub client_id: String,
    /// The email field exactly as submitted (one scalar; the web layer refuses arrays).
    pub email_raw: String,
    /// The requested locale (`?locale=` or `Accept-Language`'s first tag), if any.
    pub locale: Option<String>,
    /// The requested post-reset redirect, if any; must match the tenant's allowlist exactly.
    pub redirect_uri: Option<String>,
    /// The client address, already resolved through the trusted proxies.
    pub client_ip: IpAddr,
    /// Correlates logs and audit events.
    pub request_id: String,
}

impl std::fmt::Debug for RequestInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestInput")
            .field("client_id", &self.client_id)
            .field("email", &crate::email_address::mask(&self.email_raw))
            .field("locale", &self.locale)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

/// The one answer to a reset request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestAccepted {
    /// A fresh random id for this request (code mode types the code against it). Equally
    /// random whether or not the account exists.
    pub flow_id: String,
    /// Set when a limit that says nothing about the account (client address, whole tenant;
    /// never the per-address one) refused this request: when that limit lifts, for an honest
    /// "too many requests, try again at …". No mail is sent then.
    pub retry_at: Option<passgate_store::Timestamp>,
}

impl Engine {
    /// Accepts a reset request. Errors only for a malformed or unknown `client_id`, a
    /// disallowed `redirect_uri`, or a database outage — none of which depend on the account.
    pub async fn request_reset(
        &self,
        input: RequestInput,
    ) -> Result<RequestAccepted, RequestError> {
        let started = tokio::time::Instant::now();
        let result = self.accept(input).await;
        tokio::time::sleep_until(started + self.settings.request_floor).await;
        result
    }

    async fn accept(&self, input: RequestInput) -> Result<RequestAccepted, RequestError> {
        let client = ClientId::parse(&input.client_id).map_err(|_| RequestError::UnknownClient)?;
        let tenant = self
            .tenants
            .by_client(&client)
            .await
            .map_err(RequestError::Unavailable)?
            .ok_or(RequestError::UnknownClient)?;
        let config = &tenant.config;
        let redirect_uri = match input.redirect_uri.as_deref() {
            Some(requested) => Some(
                config
                    .reset
                    .redirect_uri(requested)
                    .ok_or(RequestError::RedirectNotAllowed)?
                    .as_str()
                    .to_owned(),
            ),
            None => None,
        };
        let locale = config.locales.negotiate(input.locale.as_deref()).clone();
        let flow_id = FlowId::generate().map_err(|e| RequestError::Unavailable(e.into()))?;

        let email = SubmittedEmail::parse(&input.email_raw);
        // Malformed input still counts against a bucket keyed by what was typed, so the work
        // is the same as for a well-formed address.
        let account_key = email.as_ref().map_or_else(
            || input.email_raw.trim().to_ascii_lowercase(),
            SubmittedEmail::lookup_key,
        );
        // Sealed whether or not a limit is full: the same work either way.
        let sealed_email = match &email {
            Some(email) => Some(
                self.jobs
                    .seal_email(&config.id, &flow_id, email)
                    .map_err(RequestError::Unavailable)?,
            ),
            None => None,
        };
        let now = self.clock.now();
        let job_for = |limited: Option<LimitHit>| {
            let (verdict, email) = match (limited, &sealed_email) {
                (Some(which), _) => (Verdict::RateLimited(which.as_str().to_owned()), None),
                (None, None) => (Verdict::MalformedEmail, None),
                (None, Some(sealed)) => (Verdict::Proceed, Some(sealed.clone())),
            };
            let job = RequestJob {
                flow_id: flow_id.as_str().to_owned(),
                verdict,
                email,
                locale: locale.as_str().to_owned(),
                redirect_uri: redirect_uri.clone(),
                request_id: input.request_id.clone(),
                requested_at: now,
            };
            self.jobs.row(&config.id, &client, &job)
        };
        let limited = self
            .limits
            .admit_request(
                &config.id,
                &config.rate_limits,
                input.client_ip,
                &account_key,
                job_for,
            )
            .await
            .map_err(RequestError::Unavailable)?;
        self.jobs.queued();
        let retry_at = limited
            .filter(|(which, _)| which.says_nothing_about_the_account())
            .map(|(_, until)| until);
        Ok(RequestAccepted {
            flow_id: flow_id.as_str().to_owned(),
            retry_at,
        })
    }
}

#[cfg(test)]
mod tests;
