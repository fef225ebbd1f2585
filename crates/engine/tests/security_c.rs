//! Security checklist C (items 19–23): rate limits and anti-automation.

mod common;

use common::*;
use passgate_engine::{
    CompleteError, Credential,
    client_ip::{IpNetwork, TrustedProxies},
};

fn limited_yaml(id: &str, per_ip: u32, per_account: u32, per_tenant: u32) -> String {
    tenant_yaml(id, "hosted", "link", "en", "")
        .replace(
            "requests_per_ip_per_hour: 100",
            &format!("requests_per_ip_per_hour: {per_ip}"),
        )
        .replace(
            "requests_per_account_per_hour: 10",
            &format!("requests_per_account_per_hour: {per_account}"),
        )
        .replace(
            "requests_per_tenant_per_minute: 600",
            &format!("requests_per_tenant_per_minute: {per_tenant}"),
        )
}

fn lookups(h: &Harness) -> usize {
    h.sim
        .calls()
        .iter()
        .filter(|c| c.path.starts_with("/api/v2/users-by-email"))
        .count()
}

#[tokio::test]
async fn c19_per_account_limit_caps_mail_and_lookups_with_an_unchanged_answer() {
    let h = Harness::build(&[limited_yaml("acme", 100, 3, 600)], |_| {}).await;
    for email in ["ada@example.com", "nobody@example.com"] {
        for _ in 0..4 {
            let accepted = h.request(email).await;
            assert_eq!(
                accepted.flow_id.len(),
                22,
                "the limited answer looks the same"
            );
        }
    }
    h.drain().await;
    assert_eq!(h.mails().len(), 3, "at most N mails for the account");
    assert_eq!(
        lookups(&h),
        6,
        "at most N lookups per account, known or unknown"
    );
}

#[tokio::test]
async fn c20_redemption_is_throttled_per_ip_without_locking_out_the_user() {
    let h = Harness::build(&[tenant_yaml("acme", "hosted", "link", "en", "")], |s| {
        s.redeem_per_ip_per_hour = 20;
    })
    .await;
    h.request("ada@example.com").await;
    h.drain().await;
    let token = h.last_token();
    let mut attacker = h.complete_input(
        Credential::Link {
            token: String::new(),
        },
        PASSWORD,
    );
    attacker.client_ip = ip("192.0.2.66");
    let mut throttled = 0;
    for i in 0..30 {
        let mut input = h.complete_input(
            Credential::Link {
                token: format!("{:A>43}", i),
            },
            PASSWORD,
        );
        input.client_ip = attacker.client_ip;
        if matches!(
            h.engine.complete_reset(input).await,
            Err(CompleteError::Throttled)
        ) {
            throttled += 1;
        }
    }
    assert_eq!(throttled, 10, "attempts past the 20th are throttled");
    // The legitimate user, from another address, still succeeds.
    h.complete_link(&token, PASSWORD).await.unwrap();

    // Code mode: a flow dies after 5 wrong codes, even with the right one afterwards.
    let h = Harness::new("hosted", "code", "en").await;
    let accepted = h.request("ada@example.com").await;
    h.drain().await;
    let code = code_in(&plain_text(h.mails().last().unwrap())).unwrap();
    let wrong = if code == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    for _ in 0..5 {
        let err = h
            .engine
            .complete_reset(h.complete_input(
                Credential::Code {
                    flow_id: accepted.flow_id.clone(),
                    code: wrong.into(),
                },
                PASSWORD,
            ))
            .await
            .unwrap_err();
        assert!(matches!(err, CompleteError::InvalidLink(_)));
    }
    let err = h
        .engine
        .complete_reset(h.complete_input(
            Credential::Code {
                flow_id: accepted.flow_id,
                code,
            },
            PASSWORD,
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(err, CompleteError::InvalidLink(_)),
        "dead after 5 wrong codes"
    );
    assert_eq!(h.password_patches(), 0);
}

#[tokio::test]
async fn c21_requests_never_change_or_lock_the_account() {
    let h = Harness::new("hosted", "link", "en").await;
    let before = h.sim.user("ada@example.com").unwrap();
    for _ in 0..12 {
        h.request("ada@example.com").await;
    }
    h.drain().await;
    let after = h.sim.user("ada@example.com").unwrap();
    assert_eq!(before, after, "no password change, no block, nothing");
    assert_eq!(h.password_patches(), 0);
}

#[tokio::test]
async fn c22_client_ip_comes_from_trusted_proxies_only() {
    let h = Harness::build(&[limited_yaml("acme", 3, 10, 600)], |_| {}).await;
    let proxies = TrustedProxies::new(vec![IpNetwork::parse("10.0.0.0/8").unwrap()]);
    let direct_peer = ip("198.51.100.9");
    // A direct client rotating a spoofed X-Forwarded-For stays one client.
    for i in 0..5 {
        let spoof = format!("203.0.113.{i}");
        let client = proxies.client_ip(direct_peer, &[spoof.as_str()]);
        assert_eq!(client, direct_peer);
        let mut input = h.input(&format!("user{i}@example.com"));
        input.client_ip = client;
        h.engine.request_reset(input).await.unwrap();
    }
    // Behind the trusted proxy, the forwarded address counts.
    assert_eq!(
        proxies.client_ip(ip("10.1.2.3"), &["203.0.113.5"]),
        ip("203.0.113.5")
    );
    h.drain().await;
    let audit = passgate_store::AuditRepo::all_audit(&h.store, 100, None)
        .await
        .unwrap();
    let limited = audit
        .iter()
        .filter(|e| e.event.outcome == "rate_limited:ip")
        .count();
    assert_eq!(
        limited, 2,
        "requests 4 and 5 hit the per-IP limit despite the spoofing"
    );
}

#[tokio::test]
async fn c23_one_tenants_abuse_does_not_exhaust_another_tenants_budget() {
    let a = limited_yaml("acme", 100, 10, 2);
    let b = tenant_yaml("bolt", "hosted", "link", "en", "");
    let h = Harness::build(&[a, b], |_| {}).await;
    for _ in 0..10 {
        h.request("nobody@example.com").await;
    }
    let mut input = h.input("ada@example.com");
    input.client_id = "bolt-ios".into();
    h.engine.request_reset(input).await.unwrap();
    h.drain().await;
    let mails = h.mails();
    assert_eq!(mails.len(), 1, "tenant B's request went through");
    assert!(
        plain_text(&mails[0]).contains("bolt app")
            || mails[0].header("From").unwrap().contains("bolt")
    );
}
