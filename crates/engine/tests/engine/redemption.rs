//! The redemption cases every credential form must pass alike — hosted link, hosted code,
//! Janrain — because one machine and one driver redeem them all: the per-client and
//! per-tenant limits, the circuit breaker fed by the password-setting call, and one audit
//! event for every outcome (none audited as the catch-all "failed", none unaudited).

use chrono::TimeDelta;
use passgate_engine::{CompleteError, Credential, EngineSettings};
use passgate_idp_sim::{Fault, FaultKind};
use passgate_store::AuditRepo as _;
use secrecy::SecretString;

use crate::common::*;

/// The credential forms of Passgate's page.
#[derive(Debug, Clone, Copy)]
enum Form {
    Link,
    Code,
    Janrain,
}

const FORMS: [Form; 3] = [Form::Link, Form::Code, Form::Janrain];

/// A harness with one issued, unused credential of `form`.
struct Issued {
    h: Harness,
    form: Form,
    /// The link token, the flow id, or the Janrain code.
    secret: String,
    /// The code of a code flow.
    code: Option<String>,
}

impl Issued {
    async fn new(form: Form, tweak: impl FnOnce(&mut EngineSettings)) -> Self {
        let (mode, delivery, email) = match form {
            Form::Link => ("hosted", "link", "ada@example.com"),
            Form::Code => ("hosted", "code", "ada@example.com"),
            Form::Janrain => ("janrain", "link", "jan@example.com"),
        };
        let h = Harness::build(&[tenant_yaml("acme", mode, delivery, "en", "")], tweak).await;
        let accepted = h.request(email).await;
        h.drain().await;
        let (secret, code) = match form {
            Form::Link => (h.last_token(), None),
            Form::Code => {
                let mail = h.mails().last().cloned().expect("a code mail");
                (accepted.flow_id, code_in(&plain_text(&mail)))
            }
            Form::Janrain => (h.sim.mailbox().last().unwrap().code.clone().unwrap(), None),
        };
        Self {
            h,
            form,
            secret,
            code,
        }
    }

    fn credential(&self) -> Credential {
        match self.form {
            Form::Link => Credential::Link {
                token: self.secret.clone(),
            },
            Form::Code => Credential::Code {
                flow_id: self.secret.clone(),
                code: self.code.clone().expect("a code"),
            },
            Form::Janrain => Credential::Janrain {
                client_id: self.h.client.clone(),
                code: SecretString::from(self.secret.clone()),
            },
        }
    }

    /// Submits `password` (confirmed as `confirmation`) from `client_ip`.
    async fn submit(
        &self,
        password: &str,
        confirmation: &str,
        client_ip: &str,
    ) -> Result<passgate_engine::Completed, CompleteError> {
        let mut input = self.h.complete_input(self.credential(), password);
        input.confirmation = SecretString::from(confirmation.to_owned());
        input.client_ip = ip(client_ip);
        self.h.engine.complete_reset(input).await
    }

    async fn complete(&self, password: &str) -> Result<passgate_engine::Completed, CompleteError> {
        self.submit(password, password, "198.51.100.4").await
    }

    /// (action, outcome) of every redemption event, oldest first.
    async fn redemption_events(&self) -> Vec<(String, String)> {
        let events = self.h.store.all_audit(500, None).await.unwrap();
        events
            .iter()
            .rev()
            .filter(|e| {
                e.event.action == "reset.complete" || e.event.action == "reset.token_refused"
            })
            .map(|e| (e.event.action.clone(), e.event.outcome.clone()))
            .collect()
    }

    /// Password-setting calls the provider received.
    fn password_sets(&self) -> usize {
        match self.form {
            Form::Link | Form::Code => self.h.password_patches(),
            Form::Janrain => self
                .h
                .sim
                .calls()
                .iter()
                .filter(|c| c.path == "/janrain/oauth/update_profile_native")
                .count(),
        }
    }
}

fn completed(outcome: &str) -> (String, String) {
    ("reset.complete".into(), outcome.into())
}

fn refused(outcome: &str) -> (String, String) {
    ("reset.token_refused".into(), outcome.into())
}

#[tokio::test]
async fn every_outcome_of_every_form_is_audited_once_under_its_own_name() {
    for form in FORMS {
        let issued = Issued::new(form, |_| {}).await;
        let mismatch = issued
            .submit(PASSWORD, &format!("{PASSWORD}!"), "198.51.100.4")
            .await;
        assert!(
            matches!(mismatch, Err(CompleteError::Mismatch)),
            "{form:?}: {mismatch:?}"
        );
        let policy = issued.complete("short").await;
        assert!(
            matches!(policy, Err(CompleteError::PolicyViolations(_))),
            "{form:?}: {policy:?}"
        );
        issued.complete(PASSWORD).await.expect("completes");
        let again = issued.complete(&format!("{PASSWORD} again")).await;
        assert!(
            matches!(again, Err(CompleteError::InvalidLink(_))),
            "{form:?}: {again:?}"
        );
        assert_eq!(
            issued.redemption_events().await,
            [
                completed("mismatch"),
                completed("policy"),
                completed("ok"),
                refused("used"),
            ],
            "{form:?}"
        );
        assert_eq!(issued.password_sets(), 1, "{form:?}");
    }
}

#[tokio::test]
async fn a_malformed_or_unknown_credential_of_every_form_is_audited_as_refused() {
    for form in FORMS {
        let mut issued = Issued::new(form, |_| {}).await;
        // Unknown: a well-formed secret nobody issued (for a code flow: a wrong code).
        match form {
            Form::Link => issued.secret = "A".repeat(issued.secret.len()),
            Form::Code => issued.code = Some(Harness::wrong_code(issued.code.as_deref())),
            Form::Janrain => issued.h.client = "nobody-ios".into(),
        }
        let unknown = issued.complete(PASSWORD).await;
        assert!(
            matches!(unknown, Err(CompleteError::InvalidLink(_))),
            "{form:?}: {unknown:?}"
        );
        let expected = match form {
            Form::Link => "unknown",
            Form::Code => "wrong_code",
            Form::Janrain => "unknown",
        };
        assert_eq!(
            issued.redemption_events().await,
            [refused(expected)],
            "{form:?}"
        );
        assert_eq!(issued.password_sets(), 0, "{form:?}");
    }
}

impl Issued {
    /// Two refused passwords from `clients[0]` and `clients[1]`, then a good one from
    /// `clients[2]`, which a limit of two refuses; audited as `third` after two "policy".
    async fn third_is_throttled(&self, clients: [&str; 3], third: (String, String)) {
        let form = self.form;
        for (i, client) in clients[..2].iter().enumerate() {
            let answer = self.submit("short", "short", client).await;
            assert!(
                matches!(answer, Err(CompleteError::PolicyViolations(_))),
                "{form:?} #{i}: {answer:?}"
            );
        }
        let answer = self.submit(PASSWORD, PASSWORD, clients[2]).await;
        assert!(
            matches!(answer, Err(CompleteError::Throttled)),
            "{form:?}: {answer:?}"
        );
        assert_eq!(
            self.redemption_events().await,
            [completed("policy"), completed("policy"), third],
            "{form:?}"
        );
        assert_eq!(self.password_sets(), 0, "{form:?}");
    }
}

#[tokio::test]
async fn the_per_tenant_redemption_limit_holds_for_every_form() {
    for form in FORMS {
        let issued = Issued::new(form, |s| s.redeem_per_tenant_per_minute = 2).await;
        // Three clients, one credential: the tenant's bucket takes two.
        let clients = ["198.51.100.1", "198.51.100.2", "198.51.100.3"];
        issued
            .third_is_throttled(clients, completed("throttled"))
            .await;
        // The next minute the credential still works.
        issued.h.advance(TimeDelta::minutes(1));
        issued
            .complete(PASSWORD)
            .await
            .expect("completes after the window");
    }
}

#[tokio::test]
async fn the_per_client_redemption_limit_holds_for_every_form() {
    for form in FORMS {
        let issued = Issued::new(form, |s| s.redeem_per_ip_per_hour = 2).await;
        let client = "203.0.113.9";
        issued
            .third_is_throttled([client; 3], refused("throttled"))
            .await;
        // Another client is not locked out.
        issued
            .complete(PASSWORD)
            .await
            .expect("another client completes");
    }
}

/// Fails the next password-setting call of `form` with a definite outage (nothing applied).
fn fail_next_password_set(issued: &Issued) {
    let fault = match issued.form {
        Form::Link | Form::Code => Fault {
            method: Some("PATCH".into()),
            path: Some("/api/v2/users/".into()),
            times: Some(1),
            kind: FaultKind::RateLimit {
                reset_in_secs: 0,
                retry_after_secs: None,
            },
        },
        Form::Janrain => Fault {
            method: Some("POST".into()),
            path: Some("/janrain/oauth/update_profile_native".into()),
            times: Some(1),
            kind: FaultKind::JanrainError { code: 510 },
        },
    };
    issued.h.sim.add_fault(fault);
}

#[tokio::test]
async fn an_outage_of_the_password_setting_call_opens_the_circuit_for_every_form() {
    for form in FORMS {
        let issued = Issued::new(form, |s| {
            s.breaker_threshold = 1;
            s.breaker_cooldown = std::time::Duration::from_secs(30);
        })
        .await;
        fail_next_password_set(&issued);
        let first = issued.complete(PASSWORD).await;
        assert!(
            matches!(first, Err(CompleteError::TryAgainLater)),
            "{form:?}: {first:?}"
        );
        let sets = issued.password_sets();
        // The circuit is open: no provider call at all, the credential untouched.
        let second = issued.complete(PASSWORD).await;
        assert!(
            matches!(second, Err(CompleteError::TryAgainLater)),
            "{form:?}: {second:?}"
        );
        assert_eq!(
            issued.password_sets(),
            sets,
            "{form:?}: a call through an open circuit"
        );
        assert_eq!(
            issued.redemption_events().await,
            [completed("provider_unavailable"), completed("circuit_open")],
            "{form:?}"
        );
        issued.h.advance(TimeDelta::seconds(30));
        issued
            .complete(PASSWORD)
            .await
            .expect("the probe after the cooldown completes");
    }
}
