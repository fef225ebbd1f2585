//! Mail transports: the production SMTP client (lettre) and the in-memory dev mailbox of the
//! demo. The outbox worker decides *when* to send; a transport only knows *how*.
//!
//! A transport reports whether a failure is worth retrying ([`SendError::Transient`]: a
//! connection refused, a `4xx` reply) or not ([`SendError::Permanent`]: a `5xx` reply such as an
//! unknown mailbox), so the outbox can back off or dead-letter.
//!
//! The SMTP transport keeps its connections open and reuses them: at most
//! [`SMTP_CONNECTIONS_PER_RELAY`] at once, a connection that saw any error is closed instead
//! of reused, and an idle one is checked (`NOOP`) before it carries the next message. The
//! outbox sends as many messages at once as [`MailTransport::concurrency`] allows.

use std::{
    fmt,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use async_trait::async_trait;
use lettre::{
    Message,
    message::{Mailbox, MultiPart},
    transport::smtp::{authentication::Credentials, client::TlsParameters},
};
use secrecy::{ExposeSecret, SecretString};

mod pool;

/// Connections the SMTP transport keeps to its relay, and sends over at once: enough to
/// overlap the relay's round trips, few enough that a relay's per-client limit (often 10
/// or more) is never hit by one replica.
pub const SMTP_CONNECTIONS_PER_RELAY: usize = 4;

/// One email ready to send: rendered, addressed, with a stable Message-ID so a retry after an
/// unconfirmed delivery can be recognised as a duplicate by the receiving side.
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// `Display Name <address>` of the sender.
    pub from: String,
    /// The recipient: always the address stored at the identity provider.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// HTML part (CSS already inlined).
    pub html: String,
    /// Plain-text part.
    pub text: String,
    /// Message-ID without angle brackets, e.g. `0f3c…@reset.example.com`.
    pub message_id: String,
}

impl fmt::Debug for OutgoingMail {
    // Bodies carry reset links: never print them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutgoingMail")
            .field("message_id", &self.message_id)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Why a message was not handed over.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth retrying later: the server is unreachable or answered `4xx`.
    #[error("temporary mail failure: {0}")]
    Transient(String),
    /// Retrying will not help: a `5xx` reply or a message that cannot be built.
    #[error("permanent mail failure: {0}")]
    Permanent(String),
}

/// Sends one message.
#[async_trait]
pub trait MailTransport: Send + Sync + fmt::Debug {
    /// Hands the message to the next hop; `Ok` means it was accepted.
    async fn send(&self, mail: &OutgoingMail) -> Result<(), SendError>;

    /// How many sends the caller may run at once (the transport bounds them anyway).
    fn concurrency(&self) -> usize {
        1
    }
}

/// How to reach the SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// TLS from the first byte (SMTPS, usually port 465).
    ImplicitTls,
    /// Plain connection upgraded with STARTTLS; refuses to continue without it (port 587).
    StartTls,
    /// No encryption: only for a relay on the same host or a private network.
    Plain,
}

/// SMTP client settings.
#[derive(Clone)]
pub struct SmtpSettings {
    /// Server host name (also the TLS name checked against its certificate).
    pub host: String,
    /// Server port.
    pub port: u16,
    /// Transport security.
    pub security: SmtpSecurity,
    /// Optional login.
    pub username: Option<String>,
    /// Password for `username`.
    pub password: Option<SecretString>,
    /// Connect-and-conversation timeout.
    pub timeout: Duration,
}

impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The production transport: SMTP through lettre, over a small pool of reused connections.
pub struct SmtpTransport {
    /// At most [`SMTP_CONNECTIONS_PER_RELAY`] connections, reused; broken ones closed.
    pool: pool::Pool,
    host: String,
}

impl fmt::Debug for SmtpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpTransport")
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl SmtpTransport {
    /// Builds the client; nothing connects until the first send.
    pub fn new(settings: &SmtpSettings) -> Result<Self, SendError> {
        let tls = || {
            TlsParameters::new(settings.host.clone())
                .map_err(|err| SendError::Permanent(format!("invalid SMTP TLS settings: {err}")))
        };
        let security = match settings.security {
            SmtpSecurity::ImplicitTls => pool::Security::ImplicitTls(tls()?),
            SmtpSecurity::StartTls => pool::Security::StartTls(tls()?),
            SmtpSecurity::Plain => pool::Security::Plain,
        };
        let credentials = match (&settings.username, &settings.password) {
            (Some(user), Some(password)) => Some(Credentials::new(
                user.clone(),
                password.expose_secret().to_owned(),
            )),
            _ => None,
        };
        Ok(Self {
            pool: pool::Pool::new(pool::Relay {
                host: settings.host.clone(),
                port: settings.port,
                security,
                credentials,
                timeout: settings.timeout,
            }),
            host: settings.host.clone(),
        })
    }
}

/// Builds the MIME message (multipart/alternative: text, then HTML).
pub fn build_message(mail: &OutgoingMail) -> Result<Message, SendError> {
    let from: Mailbox = mail
        .from
        .parse()
        .map_err(|_| SendError::Permanent("the sender address is not valid".into()))?;
    let to: Mailbox = mail
        .to
        .parse()
        .map_err(|_| SendError::Permanent("the recipient address is not valid".into()))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(mail.subject.clone())
        .message_id(Some(format!("<{}>", mail.message_id)))
        .multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            mail.html.clone(),
        ))
        .map_err(|err| SendError::Permanent(format!("cannot build the message: {err}")))
}

#[async_trait]
impl MailTransport for SmtpTransport {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), SendError> {
        let message = build_message(mail)?;
        match self.pool.send(&message).await {
            Ok(_) => Ok(()),
            // Only 5xx replies are permanent; connection trouble and 4xx are retried.
            Err(err) if err.is_permanent() => Err(SendError::Permanent(err.to_string())),
            Err(err) => Err(SendError::Transient(err.to_string())),
        }
    }

    fn concurrency(&self) -> usize {
        SMTP_CONNECTIONS_PER_RELAY
    }
}

/// The demo's transport: keeps every message in memory for `/dev/mailbox`.
#[derive(Debug, Clone, Default)]
pub struct DevMailbox {
    messages: Arc<Mutex<Vec<OutgoingMail>>>,
}

impl DevMailbox {
    /// An empty mailbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every message sent so far, oldest first.
    pub fn messages(&self) -> Vec<OutgoingMail> {
        self.messages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl MailTransport for DevMailbox {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), SendError> {
        build_message(mail)?; // the same checks as SMTP, so the demo fails like production
        self.messages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(mail.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use passgate_smtp_sink::{Mode, SmtpSink};

    use super::*;

    fn mail() -> OutgoingMail {
        OutgoingMail {
            from: "Acme Shop <no-reply@acme.test>".into(),
            to: "ada@example.test".into(),
            subject: "Réinitialisez votre mot de passe".into(),
            html: "<p><a href=\"https://reset.example/r/abc\">Reset</a></p>".into(),
            text: "Reset: https://reset.example/r/abc".into(),
            message_id: "m-1@reset.example".into(),
        }
    }

    fn plain(sink: &SmtpSink) -> SmtpTransport {
        SmtpTransport::new(&SmtpSettings {
            host: sink.addr().ip().to_string(),
            port: sink.addr().port(),
            security: SmtpSecurity::Plain,
            username: None,
            password: None,
            timeout: Duration::from_secs(5),
        })
        .unwrap()
    }

    #[tokio::test]
    async fn smtp_delivers_both_parts_with_a_stable_message_id() {
        let sink = SmtpSink::start().await.unwrap();
        plain(&sink).send(&mail()).await.unwrap();
        let received = sink.wait_for(1).await;
        assert_eq!(received[0].rcpt_to, vec!["ada@example.test".to_owned()]);
        assert_eq!(
            received[0].header("message-id").as_deref(),
            Some("<m-1@reset.example>")
        );
        assert!(received[0].data.contains("multipart/alternative"));
    }

    #[tokio::test]
    async fn server_trouble_is_transient_so_the_outbox_retries() {
        let sink = SmtpSink::start().await.unwrap();
        sink.set_mode(Mode::RejectTransient);
        let err = plain(&sink).send(&mail()).await.unwrap_err();
        assert!(matches!(err, SendError::Transient(_)), "{err}");

        drop(sink); // nothing listens any more
        let closed = SmtpSink::start().await.unwrap();
        let port = closed.addr().port();
        drop(closed);
        let unreachable = SmtpTransport::new(&SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            security: SmtpSecurity::Plain,
            username: None,
            password: None,
            timeout: Duration::from_secs(2),
        })
        .unwrap();
        let err = unreachable.send(&mail()).await.unwrap_err();
        assert!(matches!(err, SendError::Transient(_)), "{err}");
    }

    #[tokio::test]
    async fn smtp_reuses_its_connections_and_never_opens_more_than_the_cap() {
        let sink = SmtpSink::start().await.unwrap();
        let transport = plain(&sink);
        let mails: Vec<_> = (0..20)
            .map(|i| OutgoingMail {
                message_id: format!("m-{i}@reset.example"),
                ..mail()
            })
            .collect();
        let sent = futures::future::join_all(mails.iter().map(|m| transport.send(m))).await;
        assert!(sent.iter().all(Result::is_ok), "{sent:?}");
        assert_eq!(sink.wait_for(20).await.len(), 20);
        let opened = sink.connections();
        assert!(
            (1..=SMTP_CONNECTIONS_PER_RELAY).contains(&opened),
            "20 concurrent mails opened {opened} connections (cap {SMTP_CONNECTIONS_PER_RELAY})"
        );
        for m in &mails[..5] {
            transport.send(m).await.unwrap();
        }
        assert_eq!(
            sink.connections(),
            opened,
            "later mails reuse the open connections"
        );
    }

    #[tokio::test]
    async fn a_connection_that_saw_an_error_is_closed_not_reused() {
        let sink = SmtpSink::start().await.unwrap();
        let transport = plain(&sink);
        // The sink fixes a connection's mode when it accepts it: this one refuses every mail.
        sink.set_mode(Mode::RejectTransient);
        let err = transport.send(&mail()).await.unwrap_err();
        assert!(matches!(err, SendError::Transient(_)), "{err}");
        sink.set_mode(Mode::Accept);
        transport.send(&mail()).await.unwrap();
        assert_eq!(sink.received().len(), 1);
        assert_eq!(sink.connections(), 2, "the refusing connection was dropped");
    }

    #[tokio::test]
    async fn bad_addresses_are_permanent() {
        let mut bad = mail();
        bad.to = "not an address".into();
        let err = DevMailbox::new().send(&bad).await.unwrap_err();
        assert!(matches!(err, SendError::Permanent(_)));
    }

    #[test]
    fn debug_output_hides_bodies_and_passwords() {
        let printed = format!("{:?}", mail());
        assert!(!printed.contains("reset.example/r/abc"));
        let settings = SmtpSettings {
            host: "smtp.example".into(),
            port: 587,
            security: SmtpSecurity::StartTls,
            username: Some("user".into()),
            password: Some(SecretString::from("hunter2-smtp")),
            timeout: Duration::from_secs(5),
        };
        assert!(!format!("{settings:?}").contains("hunter2-smtp"));
    }
}
