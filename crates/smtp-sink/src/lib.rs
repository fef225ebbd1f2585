//! A small, real SMTP server for tests: it speaks the SMTP conversation (RFC 5321 subset:
//! EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) on `127.0.0.1:0` and keeps every accepted
//! message, so tests exercise the production SMTP client instead of a mocked transport.
//!
//! It can be switched "down" (new and open connections are answered `421` and closed) or made to refuse
//! messages with a transient `451`, to test outbox retries, and counts what it accepted so a
//! test can assert "delivered exactly once", and the connections it was opened, so a test can
//! assert that a client reuses them.
//!
//! # Layout
//! - [`SmtpSink`]: start, inspect, and inject faults.
//! - [`ReceivedMail`]: one accepted message: envelope and raw data.

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU8, AtomicUsize, Ordering},
    },
};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    sync::Notify,
    task::JoinHandle,
};

/// Longest message the sink accepts (the SIZE it advertises), in bytes.
const MAX_MESSAGE_BYTES: usize = 10 * 1024 * 1024;

/// One message the sink accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The `MAIL FROM` address.
    pub mail_from: String,
    /// The `RCPT TO` addresses.
    pub rcpt_to: Vec<String>,
    /// The message as transmitted (headers and body, dot-unstuffed, CRLF line ends).
    pub data: String,
    /// When the sink accepted it (the end of `DATA`): where bench/pipeline.sh stops the clock.
    pub received_at: std::time::Instant,
}

impl ReceivedMail {
    /// The value of the first header named `name` (case-insensitive), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(current) = value.as_mut() {
                if line.starts_with([' ', '\t']) {
                    current.push(' ');
                    current.push_str(line.trim());
                    continue;
                }
                break;
            }
            if let Some((key, rest)) = line.split_once(':')
                && key.eq_ignore_ascii_case(name)
            {
                value = Some(rest.trim().to_owned());
            }
        }
        value
    }
}

/// How the sink answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// Accept every message.
    Accept = 0,
    /// Greet new connections with `421` and close them (server down).
    Down = 1,
    /// Accept the conversation but refuse each message after DATA with `451` (transient).
    RejectTransient = 2,
}

#[derive(Debug, Default)]
struct Shared {
    received: Mutex<Vec<ReceivedMail>>,
    arrived: Notify,
    /// TCP connections accepted so far.
    connections: AtomicUsize,
}

/// A running SMTP sink. Dropping it stops the server.
#[derive(Debug)]
pub struct SmtpSink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    mode: Arc<AtomicU8>,
    task: JoinHandle<()>,
}

impl SmtpSink {
    /// Starts a sink on an ephemeral loopback port.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let mode = Arc::new(AtomicU8::new(Mode::Accept as u8));
        let task = tokio::spawn(accept_loop(listener, shared.clone(), mode.clone()));
        Ok(Self {
            addr,
            shared,
            mode,
            task,
        })
    }

    /// The address to point an SMTP client at.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Changes how new conversations are answered.
    pub fn set_mode(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
    }

    /// Every message accepted so far, in arrival order.
    pub fn received(&self) -> Vec<ReceivedMail> {
        self.shared
            .received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many TCP connections clients have opened so far (open or closed).
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Waits until at least `count` messages have arrived (callers bound it with a timeout).
    pub async fn wait_for(&self, count: usize) -> Vec<ReceivedMail> {
        loop {
            let notified = self.shared.arrived.notified();
            // Counted under the lock, copied once: copying every message on every arrival
            // made a drain of N mails cost N² copies (the pipeline benchmark's sink ate a
            // core).
            let arrived = self
                .shared
                .received
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .len();
            if arrived >= count {
                return self.received();
            }
            notified.await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mode: Arc<AtomicU8>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        shared.connections.fetch_add(1, Ordering::SeqCst);
        let shared = shared.clone();
        let mode = mode.clone();
        tokio::spawn(async move {
            // A broken conversation only ends that connection; the sink keeps serving.
            let _ = converse(stream, &shared, &mode).await;
        });
    }
}

/// One connection's conversation. The mode is read at each command, so switching the sink
/// "down" also ends the connections a client keeps open, as a relay going away does.
async fn converse(stream: TcpStream, shared: &Shared, mode: &AtomicU8) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    if mode.load(Ordering::SeqCst) == Mode::Down as u8 {
        write
            .write_all(b"421 sink.test Service not available\r\n")
            .await?;
        return Ok(());
    }
    write
        .write_all(b"220 sink.test ESMTP passgate-smtp-sink\r\n")
        .await?;

    let mut mail_from: Option<String> = None;
    let mut rcpt_to: Vec<String> = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        if mode.load(Ordering::SeqCst) == Mode::Down as u8 {
            write
                .write_all(b"421 sink.test Service not available, closing\r\n")
                .await?;
            return Ok(());
        }
        let command = line.trim_end_matches(['\r', '\n']);
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink.test\r\n250-8BITMIME\r\n250-SIZE 10485760\r\n250 SMTPUTF8\r\n",
            "HELO" => b"250 sink.test\r\n",
            "MAIL" => {
                mail_from = Some(path_argument(command));
                rcpt_to.clear();
                b"250 OK\r\n"
            }
            "RCPT" if mail_from.is_some() => {
                rcpt_to.push(path_argument(command));
                b"250 OK\r\n"
            }
            "RCPT" => b"503 MAIL first\r\n",
            "DATA" if mail_from.is_some() && !rcpt_to.is_empty() => {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let data = read_data(&mut lines).await?;
                let reply: &[u8] = match data {
                    None => b"552 Message exceeds fixed maximum message size\r\n",
                    Some(_) if mode.load(Ordering::SeqCst) == Mode::RejectTransient as u8 => {
                        b"451 Requested action aborted: try again later\r\n"
                    }
                    Some(data) => {
                        let mail = ReceivedMail {
                            mail_from: mail_from.take().unwrap_or_default(),
                            rcpt_to: std::mem::take(&mut rcpt_to),
                            data,
                            received_at: std::time::Instant::now(),
                        };
                        shared
                            .received
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .push(mail);
                        shared.arrived.notify_waiters();
                        b"250 OK: queued\r\n"
                    }
                };
                mail_from = None;
                rcpt_to.clear();
                reply
            }
            "DATA" => b"503 Need MAIL and RCPT first\r\n",
            "RSET" => {
                mail_from = None;
                rcpt_to.clear();
                b"250 OK\r\n"
            }
            "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 Bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 Command not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}

/// The address inside `MAIL FROM:<a@b>` or `RCPT TO:<a@b>`.
fn path_argument(command: &str) -> String {
    let after_colon = command.split_once(':').map_or("", |(_, rest)| rest);
    let start = after_colon.find('<').map_or(0, |i| i + 1);
    let end = after_colon[start..]
        .find('>')
        .map_or(after_colon.len(), |i| start + i);
    after_colon[start..end].trim().to_owned()
}

/// Reads DATA lines up to the lone `.`; `None` when the message is too large.
async fn read_data<R>(lines: &mut R) -> std::io::Result<Option<String>>
where
    R: AsyncBufReadExt + Unpin,
{
    let mut data = String::new();
    let mut line = String::new();
    let mut too_large = false;
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let content = line.trim_end_matches(['\r', '\n']);
        if content == "." {
            return Ok((!too_large).then_some(data));
        }
        // Dot-stuffing (RFC 5321 4.5.2): a leading dot was doubled by the client.
        let content = content.strip_prefix('.').unwrap_or(content);
        if data.len() + content.len() > MAX_MESSAGE_BYTES {
            too_large = true;
            continue;
        }
        data.push_str(content);
        data.push_str("\r\n");
    }
}

#[cfg(test)]
mod tests;
