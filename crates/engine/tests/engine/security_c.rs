//! Security checklist C (items 19–23): rate limits and anti-automation.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use passgate_engine::{CompleteError, Credential};

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

// c22 (trusted proxies) and c23 (tenant isolation) drive the real server over real sockets:
// crates/passgate/tests/security_c_http.rs.

#[tokio::test]
async fn c20_ipv6_clients_share_one_budget_per_64() {
    let h = Harness::build(&[limited_yaml("acme", 3, 10, 600)], |s| {
        s.redeem_per_ip_per_hour = 5;
    })
    .await;
    // Redemption: eight addresses of one /64 share five attempts.
    let attempt = |client: &str| {
        let mut input = h.complete_input(
            Credential::Link {
                token: "A".repeat(43),
            },
            PASSWORD,
        );
        input.client_ip = ip(client);
        h.engine.complete_reset(input)
    };
    let mut throttled = 0;
    for i in 1..=8 {
        let client = format!("2001:db8:1:2:{i:x}:{:x}::9", i * 7919);
        if matches!(attempt(&client).await, Err(CompleteError::Throttled)) {
            throttled += 1;
        }
    }
    assert_eq!(
        throttled, 3,
        "attempts past the 5th of the /64 are throttled"
    );
    for other in ["2001:db8:1:3::1", "203.0.113.8", "::ffff:203.0.113.9"] {
        assert!(
            matches!(attempt(other).await, Err(CompleteError::InvalidLink(_))),
            "{other} has its own budget"
        );
    }
    // IPv4-mapped IPv6 is the IPv4 address it carries.
    for _ in 0..4 {
        let _ = attempt("203.0.113.10").await;
    }
    assert!(matches!(
        attempt("::ffff:203.0.113.10").await,
        Err(CompleteError::InvalidLink(_))
    ));
    assert!(matches!(
        attempt("203.0.113.10").await,
        Err(CompleteError::Throttled)
    ));

    // The request step: rotating addresses inside one /64 hit its per-IP limit together.
    for i in 0..5 {
        let mut input = h.input(&format!("user{i}@example.com"));
        input.client_ip = ip(&format!("2001:db8:7:7:{i}::{i}"));
        h.engine.request_reset(input).await.unwrap();
    }
    let mut input = h.input("ada@example.com");
    input.client_ip = ip("2001:db8:7:8::1");
    h.engine.request_reset(input).await.unwrap();
    h.drain().await;
    assert_eq!(
        rate_limited(&h, "ip").await,
        2,
        "requests 4 and 5 of the /64"
    );
    assert_eq!(h.mails().len(), 1, "another /64 is unaffected");
}

async fn rate_limited(h: &Harness, bucket: &str) -> usize {
    passgate_store::AuditRepo::all_audit(&h.store, 1000, None)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.event.outcome == format!("rate_limited:{bucket}"))
        .count()
}

#[tokio::test]
async fn c20_a_link_dies_after_n_refused_passwords() {
    let h = Harness::build(&[tenant_yaml("acme", "hosted", "link", "en", "")], |s| {
        s.redeem_max_refusals = 4;
    })
    .await;
    h.request("ada@example.com").await;
    h.drain().await;
    let token = h.last_token();
    let refused = [
        h.complete_link(&token, "short").await,
        h.complete_link(&token, "tiny").await,
    ];
    assert!(
        refused
            .iter()
            .all(|r| matches!(r, Err(CompleteError::PolicyViolations(_)))),
        "{refused:?}"
    );
    let mut mismatch = h.complete_input(
        Credential::Link {
            token: token.clone(),
        },
        PASSWORD,
    );
    mismatch.confirmation = secrecy::SecretString::from(format!("{PASSWORD}!"));
    assert!(matches!(
        h.engine.complete_reset(mismatch).await,
        Err(CompleteError::Mismatch)
    ));
    // The fourth refusal spends the link, and says so at once.
    assert!(matches!(
        h.complete_link(&token, "short again").await,
        Err(CompleteError::InvalidLink(_))
    ));
    assert!(h.engine.view_token(&token).await.is_err());
    assert!(matches!(
        h.complete_link(&token, PASSWORD).await,
        Err(CompleteError::InvalidLink(_))
    ));
    assert_eq!(h.password_patches(), 0);

    // The default is 10.
    assert_eq!(
        passgate_engine::EngineSettings::new(BASE).redeem_max_refusals,
        10
    );
    let h = Harness::new("hosted", "link", "en").await;
    h.request("ada@example.com").await;
    h.drain().await;
    let token = h.last_token();
    for i in 0..9 {
        let answer = h.complete_link(&token, "short").await;
        assert!(
            matches!(answer, Err(CompleteError::PolicyViolations(_))),
            "{i}"
        );
    }
    assert!(matches!(
        h.complete_link(&token, "short").await,
        Err(CompleteError::InvalidLink(_))
    ));
}

#[tokio::test]
async fn c23_one_client_with_one_token_cannot_spend_the_tenants_redemption_budget() {
    let h = Harness::build(&[tenant_yaml("acme", "hosted", "link", "en", "")], |s| {
        s.redeem_per_tenant_per_minute = 15;
    })
    .await;
    h.sim.seed_user(&passgate_idp_sim::SeedUser {
        email: "grace@example.com".into(),
        user_id: None,
        connection: None,
        name: Some("Grace Hopper".into()),
        blocked: false,
        email_verified: true,
        password: Some("her old password 1906".into()),
    });
    // The attacker resets their own account and hammers its link with refused passwords,
    // from a fresh /64 every time.
    h.request("ada@example.com").await;
    h.drain().await;
    let own = h.last_token();
    for i in 0..60 {
        let mut input = h.complete_input(Credential::Link { token: own.clone() }, "short");
        input.client_ip = ip(&format!("2001:db8:{i:x}::1"));
        let _ = h.engine.complete_reset(input).await;
    }
    // Another user of the tenant completes in the same minute.
    h.request("grace@example.com").await;
    h.drain().await;
    let theirs = h.last_token();
    h.complete_link(&theirs, PASSWORD)
        .await
        .expect("the victim's completion is not throttled");
    assert_eq!(h.password_patches(), 1);
}

#[tokio::test]
async fn c23_a_concurrent_burst_with_one_token_spends_a_bounded_share() {
    // Concurrent attempts all pass verification before any is refused, so the refusal count
    // alone cannot cap a burst: the token's own bucket (five times the refusal limit) does.
    let h = Harness::build(&[tenant_yaml("acme", "hosted", "link", "en", "")], |s| {
        s.redeem_per_tenant_per_minute = 60;
    })
    .await;
    h.sim.seed_user(&passgate_idp_sim::SeedUser {
        email: "grace@example.com".into(),
        user_id: None,
        connection: None,
        name: Some("Grace Hopper".into()),
        blocked: false,
        email_verified: true,
        password: Some("her old password 1906".into()),
    });
    h.request("ada@example.com").await;
    h.drain().await;
    let own = h.last_token();
    let burst = (0..120).map(|i| {
        let mut input = h.complete_input(Credential::Link { token: own.clone() }, "short");
        input.client_ip = ip(&format!("2001:db8:{i:x}::1"));
        h.engine.complete_reset(input)
    });
    let answers = futures::future::join_all(burst).await;
    let through = answers
        .iter()
        .filter(|a| !matches!(a, Err(CompleteError::Throttled)))
        .count();
    println!("burst of 120: {through} not throttled");
    h.request("grace@example.com").await;
    h.drain().await;
    h.complete_link(&h.last_token(), PASSWORD)
        .await
        .expect("the victim's completion is not throttled");
}

#[tokio::test]
async fn c23_one_client_cannot_silence_the_tenants_mail() {
    // Per IP 3/hour, per tenant 5/minute: one /64 sending many requests (rotating addresses
    // and emails) only ever counts 3 against the tenant.
    let h = Harness::build(&[limited_yaml("acme", 3, 10, 5)], |_| {}).await;
    for i in 0..20 {
        let mut input = h.input(&format!("nobody{i}@example.com"));
        input.client_ip = ip(&format!("2001:db8:66:66:{i:x}::1"));
        h.engine.request_reset(input).await.unwrap();
    }
    h.drain().await;
    assert_eq!(rate_limited(&h, "tenant").await, 0);
    let mut input = h.input("ada@example.com");
    input.client_ip = ip("192.0.2.200");
    h.engine.request_reset(input).await.unwrap();
    h.drain().await;
    assert_eq!(h.mails().len(), 1, "the real user's mail still goes out");
    assert_eq!(h.mails()[0].rcpt_to, vec!["ada@example.com".to_owned()]);
}
