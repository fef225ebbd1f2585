//! Security checklist B (items 12–18): the request step and user enumeration.

mod common;

use std::time::Duration;

use common::*;
use passgate_engine::{RequestAccepted, RequestError};
use passgate_idp_sim::{Fault, FaultKind};
use passgate_smtp_sink::Mode;

/// The parts of an answer a client can see, minus the random flow id (its shape is compared).
fn shape(answer: &Result<RequestAccepted, RequestError>) -> String {
    match answer {
        Ok(accepted) => format!("accepted:{}", accepted.flow_id.len()),
        Err(err) => format!("error:{err}"),
    }
}

#[tokio::test]
async fn b12_same_answer_for_existing_unknown_blocked_and_social_only_accounts() {
    let h = Harness::new("hosted", "link", "en").await;
    let emails = [
        "ada@example.com",     // exists
        "nobody@example.com",  // unknown
        "blocked@example.com", // blocked
        "jan@example.com",     // lives in another connection (social / other IdP)
        "",                    // no email
    ];
    let mut shapes = Vec::new();
    for email in emails {
        shapes.push(shape(&h.engine.request_reset(h.input(email)).await));
    }
    assert!(shapes.iter().all(|s| s == "accepted:22"), "{shapes:?}");
    h.drain().await;
    let mails = h.mails();
    assert_eq!(
        mails.len(),
        1,
        "only the existing, active account gets mail"
    );
    assert_eq!(mails[0].rcpt_to, vec!["ada@example.com".to_owned()]);
}

#[tokio::test]
async fn b13_request_time_does_not_depend_on_the_account() {
    // The request step never talks to the provider (the lookup is a background job), and
    // pads its answer to a constant floor: the same work for every account.
    let h = Harness::build(&[tenant_yaml("acme", "hosted", "link", "en", "")], |s| {
        s.request_floor = Duration::from_millis(40);
    })
    .await;
    h.sim.add_fault(Fault {
        method: None,
        path: Some("/api/v2/users-by-email".into()),
        times: None,
        kind: FaultKind::Latency { ms: 400 },
    });
    for email in ["ada@example.com", "nobody@example.com"] {
        let started = tokio::time::Instant::now();
        h.request(email).await;
        assert!(
            started.elapsed() >= Duration::from_millis(40),
            "the floor is always waited"
        );
    }
    assert!(
        h.sim.calls().is_empty(),
        "no provider call happens while answering"
    );
    h.drain().await;
    assert_eq!(h.mails().len(), 1);
}

#[tokio::test]
async fn b14_provider_or_smtp_outage_does_not_change_the_answer() {
    let h = Harness::new("hosted", "link", "en").await;
    let healthy = [
        shape(&h.engine.request_reset(h.input("ada@example.com")).await),
        shape(&h.engine.request_reset(h.input("nobody@example.com")).await),
    ];
    h.sim.add_fault(Fault {
        method: None,
        path: None,
        times: None,
        kind: FaultKind::Status { status: 503 },
    });
    h.sink.set_mode(Mode::Down);
    let outage = [
        shape(&h.engine.request_reset(h.input("ada@example.com")).await),
        shape(&h.engine.request_reset(h.input("nobody@example.com")).await),
    ];
    assert_eq!(healthy, outage);
    assert!(healthy.iter().all(|s| s == "accepted:22"));
}

#[tokio::test]
async fn b15_email_must_be_exactly_one_strict_address() {
    let h = Harness::new("hosted", "link", "en").await;
    let corpus = [
        "ada@example.com,attacker@evil.test",
        "ada@example.com attacker@evil.test",
        "ada@example.com;attacker@evil.test",
        "ada@example.com|attacker@evil.test",
        "ada@example.com%00attacker@evil.test",
        "ada@example.com\0attacker@evil.test",
        "ada@example.com\r\nbcc:attacker@evil.test",
        "ada@example.com\nCc: attacker@evil.test",
        "[\"ada@example.com\",\"attacker@evil.test\"]",
        "\"ada@example.com\" <attacker@evil.test>",
        "ada@example.com(comment)",
        "asdf@",
        "\\@example.com",
    ];
    for raw in corpus {
        let answer = h.engine.request_reset(h.input(raw)).await;
        assert_eq!(
            shape(&answer),
            "accepted:22",
            "answered generically: {raw:?}"
        );
    }
    h.drain().await;
    assert!(
        h.mails().is_empty(),
        "nothing is sent for a polluted address"
    );
    assert!(
        !h.sim
            .calls()
            .iter()
            .any(|c| c.path.starts_with("/api/v2/users-by-email")),
        "no lookup is even attempted"
    );
}

#[tokio::test]
async fn b16_mail_goes_only_to_the_address_the_provider_stores() {
    let h = Harness::new("hosted", "link", "en").await;
    for raw in [
        "ADA@EXAMPLE.COM",
        "ada@exаmple.com",    // Cyrillic а
        "ada@examplé.com",    // accent
        "ａｄａ@example.com", // full width
        "ada@gıthub.com",     // dotless i
    ] {
        h.engine.request_reset(h.input(raw)).await.unwrap();
    }
    h.drain().await;
    let mails = h.mails();
    assert_eq!(mails.len(), 1, "only the ASCII case variant matches");
    for mail in &mails {
        assert_eq!(
            mail.rcpt_to,
            vec!["ada@example.com".to_owned()],
            "the stored address"
        );
        assert_eq!(mail.header("To").unwrap(), "ada@example.com");
    }
}

#[tokio::test]
async fn b17_a_reset_issues_no_session_or_login() {
    let h = Harness::new("hosted", "link", "en").await;
    h.request("ada@example.com").await;
    h.drain().await;
    let done = h.complete_link(&h.last_token(), PASSWORD).await.unwrap();
    // The outcome carries a redirect and a locale, nothing that could authenticate.
    assert_eq!(done.redirect_uri, None);
    for call in h.sim.calls() {
        let grant = call
            .params
            .get("grant_type")
            .and_then(|g| g.as_str())
            .unwrap_or("");
        assert!(
            grant.is_empty() || grant == "client_credentials",
            "only the machine-to-machine grant is ever used, saw {grant}"
        );
    }
}

#[tokio::test]
async fn b18_a_reset_never_touches_mfa() {
    let h = Harness::new("hosted", "link", "en").await;
    h.request("ada@example.com").await;
    h.drain().await;
    h.complete_link(&h.last_token(), PASSWORD).await.unwrap();
    for call in h.sim.calls() {
        for forbidden in [
            "authenticator",
            "enrollment",
            "multifactor",
            "guardian",
            "mfa",
        ] {
            assert!(
                !call.path.contains(forbidden),
                "{} {}",
                call.method,
                call.path
            );
        }
        // The only deletions are the session revocation of item 47: never an enrollment,
        // authenticator or the user.
        if call.method == "DELETE" {
            assert!(
                call.path.ends_with("/sessions") || call.path.ends_with("/refresh-tokens"),
                "{} {}",
                call.method,
                call.path
            );
        }
    }
}

#[tokio::test]
async fn f43_redirect_uri_must_match_the_allowlist_exactly() {
    let h = Harness::new("hosted", "link", "en").await;
    for bad in [
        "javascript:alert(1)",
        "data:text/html,x",
        "//evil.example",
        "https:/\\evil.example",
        "acme://done.evil",
        "acme://done/",
        "ACME://DONE",
        "other-app://done",
    ] {
        let mut input = h.input("ada@example.com");
        input.redirect_uri = Some(bad.into());
        let answer = h.engine.request_reset(input).await;
        assert!(
            matches!(answer, Err(RequestError::RedirectNotAllowed)),
            "{bad}"
        );
    }
    let mut input = h.input("ada@example.com");
    input.redirect_uri = Some("acme://done".into());
    h.engine.request_reset(input).await.unwrap();
    h.drain().await;
    let done = h.complete_link(&h.last_token(), PASSWORD).await.unwrap();
    assert_eq!(done.redirect_uri.as_deref(), Some("acme://done"));
}

#[tokio::test]
async fn g45_the_reset_mail_carries_one_https_link_and_no_password() {
    let h = Harness::new("hosted", "link", "en").await;
    h.request("ada@example.com").await;
    h.drain().await;
    let mail = h.mails().last().unwrap().clone();
    let text = plain_text(&mail);
    let html = html_text(&mail);
    assert_eq!(text.matches("https://").count(), 1, "{text}");
    assert!(!text.contains("http://") && !html.contains("http://"));
    assert!(html.contains(&format!("{BASE}/reset/confirm?token=")));
    assert!(!text.contains("an old password of hers"));
    assert_eq!(mail.header("From").unwrap(), "acme <no-reply@acme.example>");
}
