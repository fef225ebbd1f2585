//! [`HeldConnections`]: many raw keep-alive TCP connections to one gateway, opened first and
//! held, then used together: every connection writes its request before any answer is read,
//! so the server has them all in flight at once (1,000 held connections, 1,000 concurrent
//! redemptions of one token). Plain blocking sockets: no client pool decides for us how many
//! connections exist.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::Context as _;

/// One answer read off a held connection.
#[derive(Debug, Clone)]
pub struct RawAnswer {
    /// HTTP status.
    pub status: u16,
    /// The body as text.
    pub body: String,
}

/// What one round over every connection got back.
#[derive(Debug, Clone, Default)]
pub struct RoundReport {
    /// Answers by status.
    pub statuses: BTreeMap<u16, usize>,
    /// Connections that got no complete answer (closed, reset, timed out).
    pub errors: usize,
    /// Every answer, in connection order (`None` for the errors).
    pub answers: Vec<Option<RawAnswer>>,
}

impl RoundReport {
    /// Answers with `status`.
    pub fn count(&self, status: u16) -> usize {
        self.statuses.get(&status).copied().unwrap_or(0)
    }
}

/// Open connections to one server.
#[derive(Debug)]
pub struct HeldConnections {
    streams: Vec<Option<TcpStream>>,
}

impl HeldConnections {
    /// Opens `count` connections to `addr`; `timeout` bounds each read and write.
    pub fn open(addr: SocketAddr, count: usize, timeout: Duration) -> anyhow::Result<Self> {
        let streams = (0..count)
            .map(|i| {
                let stream = TcpStream::connect_timeout(&addr, timeout)
                    .with_context(|| format!("connection {i} to {addr}"))?;
                stream.set_read_timeout(Some(timeout))?;
                stream.set_write_timeout(Some(timeout))?;
                stream.set_nodelay(true)?;
                Ok(Some(stream))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self { streams })
    }

    /// Connections still usable.
    pub fn open_count(&self) -> usize {
        self.streams.iter().flatten().count()
    }

    /// Writes `request(i)` (a whole HTTP/1.1 request) on every connection `i`, then reads one
    /// answer from each. A connection that fails is dropped from the set.
    pub fn round(&mut self, request: impl Fn(usize) -> Vec<u8>) -> RoundReport {
        for (i, slot) in self.streams.iter_mut().enumerate() {
            if let Some(stream) = slot
                && stream.write_all(&request(i)).is_err()
            {
                *slot = None;
            }
        }
        let mut report = RoundReport::default();
        for slot in &mut self.streams {
            let answer = slot.as_mut().and_then(|s| read_answer(s).ok());
            match &answer {
                Some(a) => *report.statuses.entry(a.status).or_default() += 1,
                None => {
                    report.errors += 1;
                    *slot = None;
                }
            }
            report.answers.push(answer);
        }
        report
    }
}

/// A keep-alive `GET path` with `Host: host`.
pub fn get_request(path: &str, host: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\n\r\n").into_bytes()
}

/// A keep-alive JSON `POST path` with `Host: host` from `client_ip` (`X-Forwarded-For`).
pub fn post_json_request(path: &str, host: &str, client_ip: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nX-Forwarded-For: {client_ip}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: keep-alive\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Reads one HTTP/1.1 answer with a `Content-Length` body (what the gateway sends).
fn read_answer(stream: &mut TcpStream) -> anyhow::Result<RawAnswer> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(end) = find(&buffer, b"\r\n\r\n") {
            break end + 4;
        }
        let n = stream.read(&mut chunk)?;
        anyhow::ensure!(n > 0, "closed before the headers");
        buffer.extend_from_slice(chunk.get(..n).unwrap_or_default());
    };
    let head = String::from_utf8_lossy(buffer.get(..head_end).unwrap_or_default()).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("no status line")?;
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let n = stream.read(&mut chunk)?;
        anyhow::ensure!(n > 0, "closed inside the body");
        buffer.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
    let body = buffer.get(head_end..head_end + length).unwrap_or_default();
    Ok(RawAnswer {
        status,
        body: String::from_utf8_lossy(body).into_owned(),
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
