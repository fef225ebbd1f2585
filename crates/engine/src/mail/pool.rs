//! The SMTP transport's connections to its relay: opened on demand (TLS or STARTTLS, then
//! login), kept open after a message the relay accepted, and reused — at most
//! [`SMTP_CONNECTIONS_PER_RELAY`] exist at once. A connection that saw any error is closed,
//! never reused; an idle one is checked with `NOOP` before it carries the next message, and
//! one idle longer than [`IDLE_LIMIT`] is closed instead (relays drop quiet clients).

use std::{
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

use lettre::{
    Message,
    transport::smtp::{
        Error,
        authentication::{Credentials, DEFAULT_MECHANISMS},
        client::{AsyncSmtpConnection, TlsParameters},
        extension::ClientId,
    },
};
use tokio::sync::Semaphore;

use super::SMTP_CONNECTIONS_PER_RELAY;
#[cfg(doc)]
use super::SmtpSecurity;

/// How long a connection may sit idle and still be reused.
const IDLE_LIMIT: Duration = Duration::from_secs(60);

/// [`SmtpSecurity`] with the TLS settings (server name, roots) it needs, built once.
pub(super) enum Security {
    ImplicitTls(TlsParameters),
    StartTls(TlsParameters),
    Plain,
}

/// Where and how to connect.
pub(super) struct Relay {
    pub(super) host: String,
    pub(super) port: u16,
    pub(super) security: Security,
    pub(super) credentials: Option<Credentials>,
    pub(super) timeout: Duration,
}

impl Relay {
    /// A new, greeted, secured and logged-in connection.
    async fn connect(&self) -> Result<AsyncSmtpConnection, Error> {
        let hello = ClientId::default();
        let wrapper = match &self.security {
            Security::ImplicitTls(tls) => Some(tls.clone()),
            Security::StartTls(_) | Security::Plain => None,
        };
        let mut conn = AsyncSmtpConnection::connect_tokio1(
            (self.host.as_str(), self.port),
            Some(self.timeout),
            &hello,
            wrapper,
            None,
        )
        .await?;
        if let Security::StartTls(tls) = &self.security {
            // Refuses to go on in clear when the server offers no STARTTLS.
            conn.starttls(tls.clone(), &hello).await?;
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials).await?;
        }
        Ok(conn)
    }
}

/// The open connections to one relay.
pub(super) struct Pool {
    relay: Relay,
    /// Connections the last message left in good order, with when it left them.
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
    /// One permit per connection that may exist: in use or idle.
    slots: Semaphore,
}

impl Pool {
    pub(super) fn new(relay: Relay) -> Self {
        Self {
            relay,
            idle: Mutex::new(Vec::new()),
            slots: Semaphore::new(SMTP_CONNECTIONS_PER_RELAY),
        }
    }

    /// Sends `message` over an idle connection, or a new one while fewer than the cap exist.
    pub(super) async fn send(&self, message: &Message) -> Result<(), Error> {
        // The semaphore is never closed; if it were, sending unbounded beats not sending.
        let _slot = self.slots.acquire().await.ok();
        let mut conn = self.checkout().await?;
        let sent = conn.send(message.envelope(), &message.formatted()).await;
        if sent.is_ok() && !conn.has_broken() {
            // Parked before the slot is released: the next sender finds it.
            self.lock_idle().push((conn, Instant::now()));
        } else {
            conn.abort().await;
        }
        sent.map(|_| ())
    }

    /// An idle connection that still answers, or a new one.
    async fn checkout(&self) -> Result<AsyncSmtpConnection, Error> {
        loop {
            let parked = self.lock_idle().pop();
            let Some((mut conn, since)) = parked else {
                return self.relay.connect().await;
            };
            if since.elapsed() < IDLE_LIMIT && conn.test_connected().await {
                return Ok(conn);
            }
            conn.abort().await;
        }
    }

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<(AsyncSmtpConnection, Instant)>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
