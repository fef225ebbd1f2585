//! Security boundaries: the host allowlist is enforced before any connection, and redirects
//! are never followed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may panic

use crate::common;

use std::sync::{Arc, Mutex};

use common::*;
use passgate_idp::{Auth0Client, HostPolicy, IdentityProvider, IdpError, JanrainClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Counts accepted connections; answers each with `reply`.
async fn recording_listener(reply: String) -> (String, Arc<Mutex<usize>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepts = Arc::new(Mutex::new(0));
    let counter = Arc::clone(&accepts);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            *counter.lock().unwrap() += 1;
            // Read the request head before answering, as a server would.
            let mut buf = vec![0u8; 8192];
            let mut seen = Vec::new();
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                }
            }
            let _ = stream.write_all(reply.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
    });
    (format!("http://{addr}"), accepts)
}

#[tokio::test]
async fn hosts_outside_the_allowlist_are_refused_before_any_connection() {
    let (url, accepts) = recording_listener(String::new()).await;
    let sim = sim().await;

    // A live loopback listener is refused without the explicit test switch…
    let mut config = auth0_config(&sim);
    config.domain = url.clone();
    config.hosts = HostPolicy::default();
    let err = Auth0Client::new(config).unwrap_err();
    assert!(matches!(err, IdpError::DomainNotAllowed { .. }), "{err:?}");

    // …and so are unlisted domains, for both providers.
    let mut config = auth0_config(&sim);
    config.domain = "tenant.auth0.com.attacker.example".into();
    assert!(matches!(
        Auth0Client::new(config),
        Err(IdpError::DomainNotAllowed { .. })
    ));
    let mut config = janrain_config(&sim);
    config.capture_domain = url.clone();
    config.hosts = HostPolicy::default();
    assert!(matches!(
        JanrainClient::new(config),
        Err(IdpError::DomainNotAllowed { .. })
    ));

    // Nothing ever connected. (A connection attempt would have been counted by now: the
    // constructors are synchronous and no client exists.)
    tokio::task::yield_now().await;
    assert_eq!(*accepts.lock().unwrap(), 0);
    assert!(sim.calls().is_empty());
}

#[tokio::test]
async fn redirects_are_never_followed() {
    let (target, target_accepts) =
        recording_listener("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}".into()).await;
    let (redirector, _) = recording_listener(format!(
        "HTTP/1.1 302 Found\r\nlocation: {target}/oauth/token\r\ncontent-length: 0\r\n\r\n"
    ))
    .await;
    let sim = sim().await;
    let mut config = auth0_config(&sim);
    config.domain = redirector;
    let err = Auth0Client::new(config)
        .unwrap()
        .find_user_by_email("jane@example.com")
        .await;
    assert!(
        matches!(err, Err(IdpError::Redirected { status: 302 })),
        "{err:?}"
    );
    assert_eq!(*target_accepts.lock().unwrap(), 0);
}
