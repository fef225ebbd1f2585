//! What the fault scenarios of `crates/passgate/tests/system/faults_{provider,mail,concurrency}.rs`
//! share: the suite's gate, minting a link token through the real mail, counting reset mails
//! per recipient and `Message-ID` (to prove "exactly once"), and bounded polling.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use anyhow::bail;
use passgate_smtp_sink::ReceivedMail;
use serde_json::Value;

use crate::client::{ResetClient, http_client};
use crate::mail::{MailSink, reset_token_in};

/// The variable that turns the fault suite on (`.ci/run` sets it).
pub const FAULT_SUITE_VAR: &str = "PASSGATE_FAULT_SUITE";

/// Whether the fault suite runs; prints why scenario `name` is skipped when it does not.
pub fn fault_suite_enabled(name: &str) -> bool {
    let on = std::env::var(FAULT_SUITE_VAR).is_ok_and(|v| v == "1");
    if !on {
        println!("skipped {name}: set {FAULT_SUITE_VAR}=1 (the fault suite starts real processes)");
    }
    on
}

/// The workspace root (themes, example tenants).
pub use passgate_testkit::paths::workspace_root;

/// The reset mails (those carrying a hosted reset link) among `mails`.
pub fn reset_mails(mails: &[ReceivedMail]) -> Vec<&ReceivedMail> {
    mails
        .iter()
        .filter(|m| reset_token_in(m).is_some())
        .collect()
}

/// How the reset mails that arrived compare with the recipients that should each have one.
#[derive(Debug, Clone, Default)]
pub struct MailTally {
    /// Recipients expected to get exactly one reset mail.
    pub expected: usize,
    /// Expected recipients with exactly one.
    pub delivered_once: usize,
    /// Expected recipients with none: lost.
    pub lost: Vec<String>,
    /// Recipients with more than one (or any unexpected recipient), with their count.
    pub extra: BTreeMap<String, usize>,
    /// `Message-ID`s seen more than once (the same message delivered twice).
    pub repeated_message_ids: usize,
}

impl MailTally {
    /// Tallies the reset mails received so far against `expected` recipients.
    pub fn count(mail: &MailSink, expected: &[String]) -> Self {
        let received = mail.received();
        let mut per_recipient: BTreeMap<String, usize> = BTreeMap::new();
        let mut ids = BTreeSet::new();
        let mut repeated = 0;
        for message in reset_mails(&received) {
            for to in &message.rcpt_to {
                *per_recipient.entry(to.to_ascii_lowercase()).or_default() += 1;
            }
            if let Some(id) = message.header("Message-ID")
                && !ids.insert(id)
            {
                repeated += 1;
            }
        }
        let mut tally = Self {
            expected: expected.len(),
            repeated_message_ids: repeated,
            ..Self::default()
        };
        for to in expected {
            match per_recipient.remove(&to.to_ascii_lowercase()) {
                None => tally.lost.push(to.clone()),
                Some(1) => tally.delivered_once += 1,
                Some(n) => {
                    tally.extra.insert(to.clone(), n);
                }
            }
        }
        tally.extra.extend(per_recipient);
        tally
    }

    /// Every expected recipient has its reset mail exactly once and nobody else has one.
    pub fn exactly_once(&self) -> bool {
        self.delivered_once == self.expected
            && self.extra.is_empty()
            && self.repeated_message_ids == 0
    }
}

impl std::fmt::Display for MailTally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "mails {}/{}, duplicates {}, lost {}",
            self.delivered_once,
            self.expected,
            self.extra.values().sum::<usize>() + self.repeated_message_ids,
            self.lost.len()
        )
    }
}

/// Waits (hang guard `limit`) until every recipient in `expected` has at least one reset
/// mail, then `settle` more (so a late duplicate would show), and tallies.
pub fn wait_for_reset_mails(
    mail: &MailSink,
    expected: &[String],
    limit: Duration,
    settle: Duration,
) -> MailTally {
    wait_until(limit, Duration::from_millis(200), || {
        MailTally::count(mail, expected).lost.is_empty()
    });
    std::thread::sleep(settle);
    MailTally::count(mail, expected)
}

/// Calls `done` every `every` until it is true or `limit` passed; whether it became true.
pub fn wait_until(limit: Duration, every: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(every);
    }
}

/// Asks for a reset of `email` through `client` and returns the token of the hosted link
/// mailed for it (the newest reset mail to `email` that was not there before).
pub fn mint_link_token(
    client: &ResetClient,
    mail: &MailSink,
    client_id: &str,
    email: &str,
) -> anyhow::Result<String> {
    let before = mail.received_for(email).len();
    let answer = client.request_reset(client_id, email)?;
    if answer.status != 202 {
        bail!(
            "reset request for {email}: {} {}",
            answer.status,
            answer.text
        );
    }
    let mut token = None;
    wait_until(Duration::from_secs(60), Duration::from_millis(50), || {
        token = mail
            .received_for(email)
            .get(before..)
            .and_then(|new| new.iter().find_map(reset_token_in));
        token.is_some()
    });
    token.ok_or_else(|| anyhow::anyhow!("no reset mail to {email} within 60 s"))
}

/// The problem `type` slug of an answer (`unavailable`, `invalid-link`, …), or "".
pub fn problem_slug(json: &Value) -> &str {
    json["type"]
        .as_str()
        .and_then(|t| t.strip_prefix("urn:passgate:problem:"))
        .unwrap_or("")
}

/// `GET {base}/healthz` and `GET {base}/readyz` statuses (0 when there was no answer).
pub fn probes(base: &str) -> (u16, u16) {
    let Ok(http) = http_client(Duration::from_secs(30)) else {
        return (0, 0);
    };
    let status = |path: &str| {
        http.get(format!("{base}{path}"))
            .send()
            .map_or(0, |r| r.status().as_u16())
    };
    (status("/healthz"), status("/readyz"))
}

/// Calls the simulator received on paths starting with `prefix`, as recorded in `calls`.
pub fn calls_to(calls: &[Value], prefix: &str) -> usize {
    calls
        .iter()
        .filter(|c| c["path"].as_str().is_some_and(|p| p.starts_with(prefix)))
        .count()
}

/// How many password writes (`PATCH /api/v2/users/{id}`) the simulator saw: the session
/// revocation after a change (`DELETE …/sessions`, `…/refresh-tokens`) is not one.
pub fn password_writes(calls: &[Value]) -> usize {
    calls
        .iter()
        .filter(|c| c["method"].as_str() == Some("PATCH"))
        .filter(|c| {
            c["path"]
                .as_str()
                .is_some_and(|p| p.starts_with("/api/v2/users/"))
        })
        .count()
}

/// The client id the scenarios use: Acme Shop (hosted link mode, one regex rule).
pub const ACME_CLIENT: &str = "acme-shop-ios";

/// A deployment of Acme Shop alone on `database_url`, `users` seeded users, one replica,
/// with `env` on top of the testbed's settings.
pub fn acme_deployment(
    passgate: &str,
    database_url: &str,
    users: usize,
    env: &[(&str, &str)],
) -> anyhow::Result<crate::Deployment> {
    let root = workspace_root();
    let mut options = crate::DeploymentOptions::new(passgate, &root, database_url);
    options.tenant_files = vec![root.join("tenants/acme-shop.yaml")];
    options.users_per_tenant = users;
    options.env = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    crate::Deployment::start(options)
}
