//! The HTTP layer shared by the provider clients: a reqwest client that never follows
//! redirects, with connect and total timeouts, and one retry loop that knows which failures
//! may be retried for which kind of call.
//!
//! Retry rules: 429 is retried (bounded, honouring `Retry-After` / `x-ratelimit-reset`) for
//! every call, because the provider rejected it before doing anything. A connection that
//! could not be established is retried for every call: nothing was sent. 5xx, timeouts and
//! connections that broke after sending are retried only for idempotent calls; for the others
//! the outcome is [`IdpError::Ambiguous`], since the change may have been applied.

use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use url::Url;

use crate::pace::{PaceStats, Pacer, Priority, pacer_for};
use crate::{Clock, IdpError};

/// Timeouts and retries for one provider client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Longest wait for a TCP+TLS connection.
    pub connect_timeout: Duration,
    /// Longest wait for one whole attempt (connect, send, read the body).
    pub total_timeout: Duration,
    /// How failures are retried.
    pub retry: RetryPolicy,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(3),
            total_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
        }
    }
}

/// Bounded retries with exponential backoff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so `2` means at most three attempts).
    pub max_retries: u32,
    /// First backoff delay; doubled per retry.
    pub base_delay: Duration,
    /// Ceiling of one backoff delay.
    pub max_delay: Duration,
    /// A 429 asking us to wait longer than this is returned at once as
    /// [`IdpError::RateLimited`] instead of holding the user's request.
    pub max_rate_limit_wait: Duration,
    /// Randomise delays (on in production so many clients do not retry in lockstep).
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(4),
            max_rate_limit_wait: Duration::from_secs(10),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// The backoff before retry number `retry` (0-based): `base·2^retry`, capped, and with
    /// "equal jitter" (between half and all of it) when enabled.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(retry.min(16)));
        let capped = exp.min(self.max_delay);
        if self.jitter {
            capped / 2 + capped.mul_f64(random_fraction() / 2.0)
        } else {
            capped
        }
    }
}

/// Whether repeating a call can apply its effect twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Safety {
    /// Reads, token requests, ticket creation: safe to repeat.
    Idempotent,
    /// Password writes, provider emails, single-use code redemption.
    NonIdempotent,
}

/// A provider answer, read fully.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

/// How one attempt failed before a full response was read.
#[derive(Debug)]
pub(crate) enum SendError {
    /// No connection: nothing was sent.
    NotSent(String),
    /// The attempt timed out, possibly after sending.
    Timeout,
    /// The connection broke, possibly after sending.
    Interrupted(String),
    /// Not sent: the tenant's rate-limit window would make the call wait too long.
    Paced(IdpError),
}

impl SendError {
    fn from_reqwest(err: reqwest::Error) -> Self {
        let err = err.without_url();
        if err.is_connect() {
            Self::NotSent(err.to_string())
        } else if err.is_timeout() {
            Self::Timeout
        } else {
            Self::Interrupted(err.to_string())
        }
    }
}

/// Reports Janrain's "try again" replies (HTTP 200 with code 510 or 480), which the status
/// alone does not reveal.
pub(crate) type ThrottleCheck = fn(&RawResponse) -> Option<u32>;

/// Never throttled beyond HTTP 429.
pub(crate) fn no_throttle(_: &RawResponse) -> Option<u32> {
    None
}

/// A provider endpoint: base URL, HTTP client and retry rules.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    client: reqwest::Client,
    base: Url,
    config: HttpConfig,
    clock: Arc<dyn Clock>,
    pacer: Arc<Pacer>,
}

impl Transport {
    /// Builds the client; `base` has already passed the host allowlist.
    pub fn new(base: Url, config: HttpConfig, clock: Arc<dyn Clock>) -> Result<Self, IdpError> {
        crate::install_crypto_provider();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .timeout(config.total_timeout)
            .https_only(base.scheme() == "https")
            .user_agent(concat!("passgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| IdpError::InvalidConfig {
                reason: format!("HTTP client: {}", e.without_url()),
            })?;
        let pacer = pacer_for(base.as_str());
        Ok(Self {
            client,
            base,
            config,
            clock,
            pacer,
        })
    }

    /// The base URL plus `path` (which starts with `/` and is already percent-encoded).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base.as_str().trim_end_matches('/'), path)
    }

    /// The pacing counters of this provider tenant.
    pub fn pace_stats(&self) -> PaceStats {
        self.pacer.stats()
    }

    /// Sends the request `build` makes, retrying per the module rules, outside the paced
    /// window (Auth0's Authentication API and Janrain have limits of their own).
    pub async fn execute(
        &self,
        operation: &'static str,
        safety: Safety,
        throttled: ThrottleCheck,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<RawResponse, IdpError> {
        self.send(operation, safety, None, throttled, build).await
    }

    /// Sends the request `build` makes once the tenant's window (the Management API's
    /// bucket) has capacity for a call of `priority`, retrying per the module rules; every
    /// answer feeds the window.
    pub async fn execute_paced(
        &self,
        operation: &'static str,
        safety: Safety,
        priority: Priority,
        throttled: ThrottleCheck,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<RawResponse, IdpError> {
        self.send(operation, safety, Some(priority), throttled, build)
            .await
    }

    async fn send(
        &self,
        operation: &'static str,
        safety: Safety,
        paced: Option<Priority>,
        throttled: ThrottleCheck,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<RawResponse, IdpError> {
        run_with_retries(
            operation,
            safety,
            &self.config.retry,
            self.clock.as_ref(),
            throttled,
            || async {
                let sent = match paced {
                    Some(priority) => Some(
                        self.pacer
                            .acquire(
                                priority,
                                self.clock.as_ref(),
                                self.config.retry.max_rate_limit_wait,
                            )
                            .await
                            .map_err(SendError::Paced)?,
                    ),
                    None => None,
                };
                let response = match build(&self.client).send().await {
                    Ok(response) => response,
                    Err(err) => {
                        if paced.is_some() {
                            self.pacer.abandon().await;
                        }
                        return Err(SendError::from_reqwest(err));
                    }
                };
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                if let Some(sent) = sent {
                    self.pacer.observe(sent, status, &headers).await;
                }
                let body = response.text().await.map_err(SendError::from_reqwest)?;
                Ok(RawResponse {
                    status,
                    headers,
                    body,
                })
            },
        )
        .await
    }
}

/// The retry loop, separate from reqwest so tests can drive it with a paused clock.
pub(crate) async fn run_with_retries<F, Fut>(
    operation: &'static str,
    safety: Safety,
    policy: &RetryPolicy,
    clock: &dyn Clock,
    throttled: ThrottleCheck,
    mut attempt: F,
) -> Result<RawResponse, IdpError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<RawResponse, SendError>>,
{
    let mut retry = 0u32;
    loop {
        let outcome = attempt().await;
        let (error, wait) = match outcome {
            // Nothing was sent and the wait is already longer than allowed: no retry.
            Err(SendError::Paced(error)) => return Err(error),
            Err(SendError::NotSent(message)) => {
                (IdpError::Connect { message }, policy.backoff(retry))
            }
            Err(SendError::Timeout) if safety == Safety::Idempotent => {
                (IdpError::Timeout, policy.backoff(retry))
            }
            Err(SendError::Timeout) => {
                return Err(IdpError::Ambiguous {
                    operation,
                    reason: "timed out after the request may have been sent".into(),
                });
            }
            Err(SendError::Interrupted(message)) if safety == Safety::Idempotent => {
                (IdpError::Connect { message }, policy.backoff(retry))
            }
            Err(SendError::Interrupted(message)) => {
                return Err(IdpError::Ambiguous {
                    operation,
                    reason: format!("connection failed after sending: {message}"),
                });
            }
            Ok(response) if response.status == 429 => {
                let limit = RateLimit::from_headers(&response.headers);
                let wait = limit.wait(clock.now(), policy, retry);
                if wait > policy.max_rate_limit_wait {
                    tracing::debug!(operation, ?wait, "rate limited beyond the allowed wait");
                    return Err(limit.into_error());
                }
                (limit.into_error(), wait)
            }
            Ok(response) => match throttled(&response) {
                Some(code) => (IdpError::Overloaded { code }, policy.backoff(retry)),
                None if response.status >= 500 && safety == Safety::Idempotent => {
                    let status = response.status;
                    (IdpError::Server { status }, policy.backoff(retry))
                }
                None if response.status >= 500 => {
                    return Err(IdpError::Ambiguous {
                        operation,
                        reason: format!("the provider answered HTTP {}", response.status),
                    });
                }
                None => {
                    tracing::debug!(
                        operation,
                        status = response.status,
                        retry,
                        "provider answered"
                    );
                    return Ok(response);
                }
            },
        };
        if retry >= policy.max_retries {
            tracing::debug!(operation, retry, %error, "giving up");
            return Err(error);
        }
        tracing::debug!(operation, retry, ?wait, %error, "retrying provider call");
        tokio::time::sleep(wait).await;
        retry += 1;
    }
}

/// What a 429 said about when to come back.
#[derive(Debug)]
struct RateLimit {
    reset_at: Option<DateTime<Utc>>,
    retry_after: Option<Duration>,
}

impl RateLimit {
    fn from_headers(headers: &HeaderMap) -> Self {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<i64>().ok())
        };
        Self {
            reset_at: number("x-ratelimit-reset")
                .and_then(|secs| DateTime::<Utc>::from_timestamp(secs, 0)),
            retry_after: number("retry-after")
                .and_then(|secs| u64::try_from(secs).ok())
                .map(Duration::from_secs),
        }
    }

    /// `Retry-After` first, then the reset time, then plain backoff.
    fn wait(&self, now: DateTime<Utc>, policy: &RetryPolicy, retry: u32) -> Duration {
        let jitter = || {
            if policy.jitter {
                Duration::from_millis(250).mul_f64(random_fraction())
            } else {
                Duration::ZERO
            }
        };
        if let Some(after) = self.retry_after {
            return after + jitter();
        }
        if let Some(reset) = self.reset_at {
            let until = (reset - now).to_std().unwrap_or(Duration::ZERO);
            return until + jitter();
        }
        policy.backoff(retry)
    }

    fn into_error(self) -> IdpError {
        IdpError::RateLimited {
            reset_at: self.reset_at,
            retry_after: self.retry_after,
        }
    }
}

/// A number in `[0, 1)`; enough randomness to spread retries, not for secrets.
fn random_fraction() -> f64 {
    let bits = RandomState::new().hash_one(0u8) >> 11;
    bits as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests;
