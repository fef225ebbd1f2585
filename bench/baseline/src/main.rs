//! `poem-hello`: the framework baseline of `bench/load.sh`. A bare poem server answering
//! `GET /` with `hello`, built from the same workspace (same poem, tokio and release profile)
//! as the gateway, so the gateway's figures can be read as a fraction of what poem itself
//! does on this machine.
//!
//! Usage: `poem-hello [--listen ADDR]` (default `127.0.0.1:0`); prints
//! `poem-hello listening on ADDR` once bound, then serves until killed.

use anyhow::{Context as _, bail};
use poem::listener::TcpAcceptor;
use poem::{Route, Server, get, handler};

#[handler]
fn hello() -> &'static str {
    "hello"
}

fn listen_arg() -> anyhow::Result<String> {
    let mut args = std::env::args().skip(1);
    let mut listen = "127.0.0.1:0".to_owned();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next().context("--listen needs an address")?,
            other => bail!("unknown argument {other:?} (usage: poem-hello [--listen ADDR])"),
        }
    }
    Ok(listen)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let listen = listen_arg()?;
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("cannot bind {listen}"))?;
    let bound = listener.local_addr()?;
    println!("poem-hello listening on {bound}");
    let acceptor = TcpAcceptor::from_tokio(listener).context("cannot accept connections")?;
    Server::new_with_acceptor(acceptor)
        .run(Route::new().at("/", get(hello)))
        .await?;
    Ok(())
}
