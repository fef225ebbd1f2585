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

/// Why a message did not go.
#[derive(Debug, thiserror::Error)]
pub(super) enum SendFailure {
    /// The relay refused, or the SMTP session broke.
    #[error(transparent)]
    Smtp(#[from] Error),
    /// No TCP connection to the relay (refused, unreachable, timed out).
    #[error("cannot connect to the relay: {0}")]
    Connect(String),
}

impl SendFailure {
    /// Only a 5xx reply is permanent; connection trouble and 4xx are worth a retry.
    pub(super) fn is_permanent(&self) -> bool {
        matches!(self, Self::Smtp(err) if err.is_permanent())
    }
}

impl Relay {
    /// A new, greeted, secured and logged-in connection.
    async fn connect(&self) -> Result<AsyncSmtpConnection, SendFailure> {
        let hello = ClientId::default();
        let mut conn = match &self.security {
            Security::ImplicitTls(tls) => {
                AsyncSmtpConnection::connect_tokio1(
                    (self.host.as_str(), self.port),
                    Some(self.timeout),
                    &hello,
                    Some(tls.clone()),
                    None,
                )
                .await?
            }
            Security::StartTls(_) | Security::Plain => {
                let connect = tokio::net::TcpStream::connect((self.host.as_str(), self.port));
                let tcp = tokio::time::timeout(self.timeout, connect)
                    .await
                    .map_err(|_| SendFailure::Connect("timed out".into()))?
                    .map_err(|e| SendFailure::Connect(e.to_string()))?;
                // lettre writes a message's body and its final `.` apart: with Nagle's
                // algorithm on, the `.` waits for the relay's delayed ACK, 40 ms a mail.
                tcp.set_nodelay(true)
                    .map_err(|e| SendFailure::Connect(e.to_string()))?;
                AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello).await?
            }
        };
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
    pub(super) async fn send(&self, message: &Message) -> Result<(), SendFailure> {
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
        sent.map(|_| ()).map_err(SendFailure::from)
    }

    /// An idle connection that still answers, or a new one.
    async fn checkout(&self) -> Result<AsyncSmtpConnection, SendFailure> {
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
