//! Connections that a handler can cut: the acceptor registers a kill switch per client
//! address, and the [`FaultKind::Drop`](crate::FaultKind::Drop) fault flips it, so the
//! connection fails on its next read or write and closes with no answer at all.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};

use poem::Addr;
use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Kill switches of the open connections, by client address.
#[derive(Debug, Default)]
pub(crate) struct KillSwitches {
    open: Mutex<HashMap<SocketAddr, Weak<AtomicBool>>>,
}

impl KillSwitches {
    fn register(&self, peer: SocketAddr) -> Arc<AtomicBool> {
        let switch = Arc::new(AtomicBool::new(false));
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.retain(|_, weak| weak.strong_count() > 0);
        open.insert(peer, Arc::downgrade(&switch));
        switch
    }

    /// Cuts the connection from `peer`, if it is still open.
    pub fn kill(&self, peer: &SocketAddr) {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(switch) = open.get(peer).and_then(Weak::upgrade) {
            switch.store(true, Ordering::SeqCst);
        }
    }
}

/// Accepts TCP connections and wraps them in [`KillableIo`].
pub(crate) struct SimAcceptor {
    listener: TcpListener,
    local: SocketAddr,
    switches: Arc<KillSwitches>,
}

impl SimAcceptor {
    pub fn new(listener: TcpListener, switches: Arc<KillSwitches>) -> io::Result<Self> {
        let local = listener.local_addr()?;
        Ok(Self {
            listener,
            local,
            switches,
        })
    }
}

impl Acceptor for SimAcceptor {
    type Io = KillableIo;

    fn local_addr(&self) -> Vec<LocalAddr> {
        vec![LocalAddr(Addr::SocketAddr(self.local))]
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let (stream, peer) = self.listener.accept().await?;
        let killed = self.switches.register(peer);
        Ok((
            KillableIo { stream, killed },
            LocalAddr(Addr::SocketAddr(self.local)),
            RemoteAddr(Addr::SocketAddr(peer)),
            Scheme::HTTP,
        ))
    }
}

/// A TCP stream that fails every operation once its switch is flipped.
pub(crate) struct KillableIo {
    stream: TcpStream,
    killed: Arc<AtomicBool>,
}

impl KillableIo {
    fn check(&self) -> io::Result<()> {
        if self.killed.load(Ordering::SeqCst) {
            Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "simulated dropped connection",
            ))
        } else {
            Ok(())
        }
    }
}

impl AsyncRead for KillableIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
