//! No password, token, ticket, code or client secret appears in the clients' logs (captured
//! at TRACE, including reqwest and hyper) or in `Debug` / `Display` output. Alone in its test
//! binary: tracing's callsite cache is process-wide, so other tests running at the same time
//! would hide events from this thread's subscriber.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may panic

#[path = "idp/common/mod.rs"]
mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use passgate_idp::{IdentityProvider, TicketRequest};
use passgate_idp_sim::{Fault, FaultKind};
use secrecy::ExposeSecret;

/// A tracing writer that keeps everything in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn no_secret_appears_in_logs_debug_or_display() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sim = sim().await;
    let mut texts: Vec<String> = Vec::new();
    let auth0 = auth0(&sim);
    let janrain = janrain(&sim);
    texts.push(format!(
        "{auth0:?} {janrain:?} {:?} {:?}",
        auth0_config(&sim),
        janrain_config(&sim)
    ));

    let good = "Blue-Harbour-Lamp-42";
    let weak = "weakpw1";
    let ambiguous = "Quiet-River-Stone-77";
    auth0.set_password(JANE_ID, &secret(good)).await.unwrap();
    let token = auth0
        .management_token()
        .await
        .unwrap()
        .expose_secret()
        .to_owned();
    let err = auth0
        .set_password(JANE_ID, &secret(weak))
        .await
        .unwrap_err();
    texts.push(format!("{err} {err:?}"));
    sim.add_fault(Fault {
        method: Some("PATCH".into()),
        path: None,
        times: Some(1),
        kind: FaultKind::ApplyThenDelay { ms: 6000 },
    });
    let err = auth0
        .set_password(JANE_ID, &secret(ambiguous))
        .await
        .unwrap_err();
    texts.push(format!("{err} {err:?}"));
    let ticket = auth0
        .create_password_change_ticket(&TicketRequest {
            user_id: JANE_ID.into(),
            result_url: None,
            client_id: None,
            ttl: None,
            mark_email_as_verified: false,
        })
        .await
        .unwrap();
    let ticket_url = ticket.url.expose_secret().to_owned();
    texts.push(format!("{ticket:?}"));

    janrain.send_reset_email("jan@example.com").await.unwrap();
    let code = sim.mailbox().pop().unwrap().code.unwrap();
    let authorization = janrain.redeem_reset_code(&secret(&code)).await.unwrap();
    let user_token = authorization.access_token.expose_secret().to_owned();
    texts.push(format!("{authorization:?}"));
    let err = janrain
        .set_password_with_authorization(&authorization, &secret("short"))
        .await
        .unwrap_err();
    texts.push(format!("{err} {err:?}"));
    janrain
        .set_password_with_authorization(&authorization, &secret(good))
        .await
        .unwrap();
    let err = janrain.redeem_reset_code(&secret(&code)).await.unwrap_err();
    texts.push(format!("{err} {err:?}"));

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("provider answered"),
        "the capture works: {logs}"
    );
    let all = format!("{logs}\n{}", texts.join("\n"));
    for secret in [
        good,
        weak,
        ambiguous,
        "short",
        CLIENT_SECRET,
        JANRAIN_SECRET,
        &token,
        &ticket_url,
        &code,
        &user_token,
    ] {
        assert!(!all.contains(secret), "`{secret}` leaked:\n{all}");
    }
    drop(sim);
    tokio::time::sleep(Duration::from_millis(1)).await;
}
