//! Provider-client settings for tests against the simulator on loopback: short timeouts,
//! no retries, plain HTTP to loopback allowed.

use std::time::Duration;

use passgate_idp::{HostPolicy, HttpConfig, RetryPolicy};

/// Five-second timeouts and no retries, so failure paths run quickly. Five, not less: on a
/// loaded two-core CI machine a healthy loopback call has been seen to take over two seconds,
/// and a timed-out call is retried later, so a test that drains the queue once loses a mail.
pub fn fast_http() -> HttpConfig {
    HttpConfig {
        connect_timeout: Duration::from_secs(5),
        total_timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            max_retries: 0,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(20),
            max_rate_limit_wait: Duration::from_millis(50),
            jitter: false,
        },
    }
}

/// No custom domains; plain HTTP to loopback (the simulator) allowed.
pub fn loopback() -> HostPolicy {
    HostPolicy {
        custom_domains: Vec::new(),
        allow_insecure_loopback_for_tests: true,
    }
}
