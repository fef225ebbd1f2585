//! [`MailSink`]: the loopback SMTP sink ([`passgate_smtp_sink::SmtpSink`]) on a runtime of its
//! own, so blocking tests and benchmark drivers can use it; and [`reset_token_in`], which
//! reads the reset link out of a received message.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use passgate_smtp_sink::{Mode, ReceivedMail, SmtpSink};

/// A running SMTP sink.
pub struct MailSink {
    runtime: tokio::runtime::Runtime,
    sink: SmtpSink,
}

impl std::fmt::Debug for MailSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MailSink({})", self.sink.addr())
    }
}

impl MailSink {
    /// Starts a sink on a free loopback port.
    pub fn start() -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let sink = runtime.block_on(SmtpSink::start())?;
        Ok(Self { runtime, sink })
    }

    /// Where the gateway's SMTP client should connect.
    pub fn addr(&self) -> SocketAddr {
        self.sink.addr()
    }

    /// Up (accepting), down (`421` and close) or refusing messages (`451`).
    pub fn set_mode(&self, mode: Mode) {
        self.sink.set_mode(mode);
    }

    /// Every message accepted so far.
    pub fn received(&self) -> Vec<ReceivedMail> {
        self.sink.received()
    }

    /// Messages to `to` accepted so far.
    pub fn received_for(&self, to: &str) -> Vec<ReceivedMail> {
        self.received()
            .into_iter()
            .filter(|m| m.rcpt_to.iter().any(|r| r.eq_ignore_ascii_case(to)))
            .collect()
    }

    /// Waits (at most `limit`, a hang guard) until `count` messages have arrived.
    pub fn wait_for(&self, count: usize, limit: Duration) -> anyhow::Result<Vec<ReceivedMail>> {
        self.runtime
            // The timer must be created inside the runtime, hence the async block.
            .block_on(async { tokio::time::timeout(limit, self.sink.wait_for(count)).await })
            .with_context(|| {
                format!(
                    "only {} of {count} messages arrived within {limit:?}",
                    self.received().len()
                )
            })
    }
}

/// The token of the first hosted reset link (`…/reset/confirm?token=…`) in `mail`, decoding
/// quoted-printable soft line breaks and `=3D` on the way.
pub fn reset_token_in(mail: &ReceivedMail) -> Option<String> {
    let text = mail.data.replace("=\r\n", "").replace("=3D", "=");
    passgate_testkit::reset_mail::token_in(&text).filter(|token| !token.is_empty())
}
