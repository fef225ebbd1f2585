//! `poem-hello`: the framework baselines of `bench/load.sh`, built from the same workspace
//! (same poem, tokio and release profile) as the gateway, so the gateway's figures can be
//! read as a fraction of what poem itself does on this machine.
//!
//! - `poem-hello` answers `GET /` with `hello`.
//! - `poem-hello --replay FILE` answers every GET with the response recorded in `FILE`
//!   (`curl -si` output: status line, headers, blank line, body): the same bytes and
//!   headers as a page of the gateway, served statically. It is the limit a page of the
//!   gateway is measured against (issue 17 item 3).
//!
//! Usage: `poem-hello [--listen ADDR] [--replay FILE]` (default `127.0.0.1:0`); prints
//! `poem-hello listening on ADDR` once bound, then serves until killed.

use anyhow::{Context as _, bail};
use poem::http::{HeaderName, HeaderValue, StatusCode};
use poem::listener::TcpAcceptor;
use poem::{Endpoint, EndpointExt as _, Request, Response, Route, Server, get, handler};

#[handler]
fn hello() -> &'static str {
    "hello"
}

struct Args {
    listen: String,
    replay: Option<String>,
}

fn args() -> anyhow::Result<Args> {
    let mut args = std::env::args().skip(1);
    let mut parsed = Args {
        listen: "127.0.0.1:0".to_owned(),
        replay: None,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => parsed.listen = args.next().context("--listen needs an address")?,
            "--replay" => parsed.replay = Some(args.next().context("--replay needs a file")?),
            other => bail!(
                "unknown argument {other:?} (usage: poem-hello [--listen ADDR] [--replay FILE])"
            ),
        }
    }
    Ok(parsed)
}

/// A recorded response: status, headers (without the ones the server sets itself) and body.
struct Recorded {
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// Read once at start and kept for the life of the process.
    body: &'static [u8],
}

/// Parses `curl -si` output.
fn recorded(raw: &[u8]) -> anyhow::Result<Recorded> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no blank line after the headers")?;
    let head = std::str::from_utf8(&raw[..split]).context("headers are not UTF-8")?;
    let body: &'static [u8] = Vec::leak(raw[split + 4..].to_vec());
    let mut lines = head.split("\r\n");
    let status_line = lines.next().context("no status line")?;
    let code = status_line
        .split_whitespace()
        .nth(1)
        .context("no status code")?;
    let status = StatusCode::from_bytes(code.as_bytes()).context("bad status code")?;
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':').context("a header without ':'")?;
        let name = HeaderName::from_bytes(name.trim().as_bytes()).context("bad header name")?;
        if ["content-length", "date", "transfer-encoding", "connection"].contains(&name.as_str()) {
            continue;
        }
        headers.push((name, HeaderValue::from_str(value.trim())?));
    }
    Ok(Recorded {
        status,
        headers,
        body,
    })
}

struct Replay(Recorded);

impl Endpoint for Replay {
    type Output = Response;

    async fn call(&self, _req: Request) -> poem::Result<Response> {
        let recorded = &self.0;
        let mut resp = Response::builder().status(recorded.status);
        for (name, value) in &recorded.headers {
            resp = resp.header(name.clone(), value.clone());
        }
        Ok(resp.body(recorded.body))
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot bind {}", args.listen))?;
    let bound = listener.local_addr()?;
    println!("poem-hello listening on {bound}");
    let acceptor = TcpAcceptor::from_tokio(listener).context("cannot accept connections")?;
    match args.replay {
        None => {
            Server::new_with_acceptor(acceptor)
                .run(Route::new().at("/", get(hello)))
                .await?
        }
        Some(file) => {
            let raw = std::fs::read(&file).with_context(|| format!("cannot read {file}"))?;
            let replay = Replay(recorded(&raw).with_context(|| format!("cannot parse {file}"))?);
            Server::new_with_acceptor(acceptor)
                .run(replay.map_to_response())
                .await?
        }
    }
    Ok(())
}
