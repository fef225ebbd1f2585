//! The gateway's Auth0 and Janrain clients configured as production tenants are (issue 15),
//! against a simulator that refuses what those tenants refuse.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may panic

use crate::common;

use common::*;
use passgate_idp::{Auth0Client, Auth0Config, IdentityProvider, IdpError, TicketRequest};
use passgate_idp_sim::{CodeErrorShape, SimClient, SimConfig, SimHandle, UniversalLogin};
use secrecy::ExposeSecret;

async fn start(config: SimConfig) -> SimHandle {
    passgate_idp_sim::start(config).await.unwrap()
}

fn ticket_for_jane() -> TicketRequest {
    TicketRequest {
        user_id: JANE_ID.into(),
        result_url: Some("https://app.example.com/done".into()),
        client_id: None,
        ttl: None,
        mark_email_as_verified: true,
    }
}

#[tokio::test]
async fn the_audience_is_the_canonical_https_identifier() {
    // The strict simulator refuses `http://127.0.0.1:PORT/api/v2/`; the derived audience
    // is `https://127.0.0.1:PORT/api/v2/`.
    let sim = sim().await;
    auth0(&sim).management_token().await.unwrap();
    let token = sim
        .calls()
        .into_iter()
        .find(|c| c.path == "/oauth/token")
        .unwrap();
    assert_eq!(
        token.params["audience"],
        format!("https://{}/api/v2/", sim.addr)
    );

    // A loopback simulator standing in for acme.eu.auth0.com: the canonical name decides.
    let mut config = sim_config();
    config.auth0.canonical_domain = Some("acme.eu.auth0.com".into());
    config.auth0.custom_domains = vec!["login.acme.com".into()];
    let sim = start(config).await;
    let err = auth0(&sim).management_token().await.unwrap_err();
    assert!(matches!(err, IdpError::Forbidden { .. }), "{err:?}");
    let client = Auth0Client::new(Auth0Config {
        canonical_domain: Some("acme.eu.auth0.com".into()),
        custom_domain: Some("login.acme.com".into()),
        ..auth0_config(&sim)
    })
    .unwrap();
    client.management_token().await.unwrap();
}

#[test]
fn combinations_that_cannot_work_are_refused() {
    let base = |sim_url: &str| Auth0Config {
        domain: sim_url.into(),
        canonical_domain: None,
        custom_domain: None,
        client_id: "sim-client".into(),
        app_client_id: None,
        new_universal_login: false,
        client_secret: secret(CLIENT_SECRET),
        connection: CONNECTION.into(),
        audience: None,
        hosts: loopback(),
        http: fast_http(),
    };
    let url = "http://127.0.0.1:9";
    let refused = |config: Auth0Config| match Auth0Client::new(config) {
        Err(IdpError::InvalidConfig { reason }) => reason,
        other => panic!("expected InvalidConfig, got {other:?}"),
    };
    let reason = refused(Auth0Config {
        custom_domain: Some("login.acme.com".into()),
        audience: Some("https://login.acme.com/api/v2/".into()),
        ..base(url)
    });
    assert!(reason.contains("custom domain"), "{reason}");
    let reason = refused(Auth0Config {
        canonical_domain: Some("login.acme.com".into()),
        ..base(url)
    });
    assert!(reason.contains("canonical_domain"), "{reason}");
    let reason = refused(Auth0Config {
        new_universal_login: true,
        ..base(url)
    });
    assert!(reason.contains("app_client_id"), "{reason}");
    let reason = refused(Auth0Config {
        custom_domain: Some("https://login.acme.com/".into()),
        ..base(url)
    });
    assert!(reason.contains("bare host"), "{reason}");
    Auth0Client::new(Auth0Config {
        canonical_domain: Some("acme.eu.auth0.com".into()),
        custom_domain: Some("login.acme.com".into()),
        app_client_id: Some("app".into()),
        new_universal_login: true,
        ..base(url)
    })
    .unwrap();
}

#[tokio::test]
async fn tickets_name_the_custom_domain_when_the_tenant_has_several() {
    let mut config = sim_config();
    config.auth0.custom_domains = vec!["login.acme.com".into(), "login.acme.de".into()];
    let sim = start(config).await;
    let err = auth0(&sim)
        .create_password_change_ticket(&ticket_for_jane())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, IdpError::UnexpectedResponse { status: 409, reason } if reason.contains("auth0-custom-domain")),
        "{err:?}"
    );
    let client = Auth0Client::new(Auth0Config {
        custom_domain: Some("login.acme.de".into()),
        ..auth0_config(&sim)
    })
    .unwrap();
    let ticket = client
        .create_password_change_ticket(&ticket_for_jane())
        .await
        .unwrap();
    assert!(
        ticket
            .url
            .expose_secret()
            .contains("/u/reset-password?ticket=")
    );
}

/// A production M2M application (no connection) plus the product's own application.
fn production_clients(mut config: SimConfig) -> SimConfig {
    for client in &mut config.auth0.clients {
        client.enabled_connections.clear();
    }
    config.auth0.clients.push(SimClient {
        client_id: "acme-web".into(),
        client_secret: "acme-web-secret".into(),
        scopes: Vec::new(),
        enabled_connections: vec![CONNECTION.into()],
        login_uri: Some("https://app.example.com/login".into()),
    });
    config
}

#[tokio::test]
async fn change_password_goes_out_with_the_applications_client_id() {
    let sim = start(production_clients(sim_config())).await;
    let err = auth0(&sim)
        .send_reset_email("jane@example.com")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, IdpError::BadRequest { message, .. } if message.contains("not enabled")),
        "{err:?}"
    );
    assert!(sim.mailbox().is_empty());
    let client = Auth0Client::new(Auth0Config {
        app_client_id: Some("acme-web".into()),
        ..auth0_config(&sim)
    })
    .unwrap();
    client.send_reset_email("jane@example.com").await.unwrap();
    assert_eq!(sim.mailbox().len(), 1);
}

#[tokio::test]
async fn new_universal_login_tickets_return_through_the_application() {
    let mut config = production_clients(sim_config());
    config.auth0.universal_login = UniversalLogin::New;
    let sim = start(config).await;
    let client = Auth0Client::new(Auth0Config {
        app_client_id: Some("acme-web".into()),
        new_universal_login: true,
        ..auth0_config(&sim)
    })
    .unwrap();
    client
        .create_password_change_ticket(&ticket_for_jane())
        .await
        .unwrap();
    let call = sim
        .calls()
        .into_iter()
        .find(|c| c.path == "/api/v2/tickets/password-change")
        .unwrap();
    assert_eq!(call.params["client_id"], "acme-web");
    assert!(call.params.get("result_url").is_none(), "{:?}", call.params);
}

#[tokio::test]
async fn janrain_bad_codes_in_the_oauth_shape_are_invalid_codes() {
    let mut config = sim_config();
    config.janrain.code_error_shape = CodeErrorShape::InvalidRequest;
    let sim = start(config).await;
    let err = janrain(&sim)
        .redeem_reset_code(&secret("not-a-code"))
        .await
        .unwrap_err();
    assert!(matches!(err, IdpError::InvalidCode), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_waits_for_capacity_instead_of_eating_429s() {
    let mut config = sim_config();
    config.auth0.plan = passgate_idp_sim::Plan::Free; // 2 requests per second
    let sim = start(config).await;
    let mut http = fast_http();
    http.retry.max_rate_limit_wait = std::time::Duration::from_secs(20);
    http.total_timeout = std::time::Duration::from_secs(20);
    let client = std::sync::Arc::new(
        Auth0Client::new(Auth0Config {
            http,
            ..auth0_config(&sim)
        })
        .unwrap(),
    );
    let lookups: Vec<_> = (0..10)
        .map(|_| {
            let client = std::sync::Arc::clone(&client);
            tokio::spawn(async move { client.find_user_by_email("jane@example.com").await })
        })
        .collect();
    for lookup in lookups {
        assert!(lookup.await.unwrap().unwrap().is_some());
    }
    let answered_429 = sim.calls().iter().filter(|c| c.status == 429).count();
    let stats = client.pace_stats().unwrap();
    assert_eq!(answered_429, 0, "{stats:?}");
    assert_eq!(stats.rate_limited, 0);
    assert!(stats.waits > 0, "a burst over 2 rps had to wait: {stats:?}");
    assert_eq!(
        stats.calls, 10,
        "ten Management API look-ups (the token request is not paced): {stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_built_apart_for_one_tenant_share_its_window() {
    // Jobs that miss the client cache together, or a client rebuilt after a binding edit:
    // each client object is new, the provider tenant's bucket is not.
    let mut config = sim_config();
    config.auth0.plan = passgate_idp_sim::Plan::Free;
    let sim = start(config).await;
    let mut http = fast_http();
    http.retry.max_rate_limit_wait = std::time::Duration::from_secs(20);
    http.total_timeout = std::time::Duration::from_secs(20);
    let clients: Vec<_> = (0..8)
        .map(|_| {
            Auth0Client::new(Auth0Config {
                http: http.clone(),
                ..auth0_config(&sim)
            })
            .unwrap()
        })
        .collect();
    let lookups: Vec<_> = clients
        .into_iter()
        .map(|client| {
            tokio::spawn(async move { client.find_user_by_email("jane@example.com").await })
        })
        .collect();
    for lookup in lookups {
        assert!(lookup.await.unwrap().unwrap().is_some());
    }
    let answered_429 = sim.calls().iter().filter(|c| c.status == 429).count();
    for c in sim.calls() {
        eprintln!("CALL {} {} {}", c.seq, c.path, c.status);
    }
    assert_eq!(
        answered_429, 0,
        "eight clients of one tenant, each its own window"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_completions_patch_goes_before_queued_lookups() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let mut config = sim_config();
    config.auth0.management_burst = Some(10);
    config.auth0.management_rps = Some(4.0);
    let sim = start(config).await;
    let mut http = fast_http();
    http.retry.max_rate_limit_wait = std::time::Duration::from_secs(30);
    http.total_timeout = std::time::Duration::from_secs(30);
    let client = Arc::new(
        Auth0Client::new(Auth0Config {
            http,
            ..auth0_config(&sim)
        })
        .unwrap(),
    );
    // Learn the window, then queue 30 background look-ups at once.
    client.find_user_by_email("jane@example.com").await.unwrap();
    let done = Arc::new(AtomicUsize::new(0));
    let lookups: Vec<_> = (0..30)
        .map(|_| {
            let (client, done) = (Arc::clone(&client), Arc::clone(&done));
            tokio::spawn(async move {
                client.find_user_by_email("jane@example.com").await.unwrap();
                done.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    // Once the burst is spent and look-ups are waiting, a user completes a reset.
    while done.load(Ordering::SeqCst) < 12 {
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let before = done.load(Ordering::SeqCst);
    client
        .set_password(JANE_ID, &secret("Brand-New-Passw0rd!"))
        .await
        .unwrap();
    let overtaken_by = done.load(Ordering::SeqCst) - before;
    for lookup in lookups {
        lookup.await.unwrap();
    }
    assert!(
        overtaken_by <= 3,
        "{overtaken_by} queued look-ups finished while the PATCH waited"
    );
}
