//! Test support (feature `testing`): a TCP proxy in front of the shared Redis that a test can cut, black-hole and
//! restore, so fault tests never touch the shared server.

use std::net::SocketAddr;

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the proxy does with traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Forwards both ways.
    Up,
    /// Drops every connection and closes new ones at once (like a server that went away).
    Cut,
    /// Holds connections open but forwards nothing (like a network partition): only timeouts end a call.
    Blackhole,
}

/// The proxy; it stops (and drops every connection) when dropped.
#[derive(Debug)]
pub struct TcpProxy {
    addr: SocketAddr,
    link: watch::Sender<Link>,
    acceptor: JoinHandle<()>,
}

impl TcpProxy {
    /// Starts a proxy on a free local port forwarding to the test Redis.
    pub async fn start() -> Self {
        Self::start_to(upstream_addr()).await
    }

    /// Starts a proxy on a free local port forwarding to any TCP server (PostgreSQL in the service's tests).
    pub async fn start_to(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a free port");
        let addr = listener.local_addr().expect("bound address");
        let (link, rx) = watch::channel(Link::Up);
        let acceptor = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let current = *rx.borrow();
                match current {
                    Link::Cut => drop(client),
                    Link::Blackhole => {
                        tokio::spawn(hold_until_changed(client, rx.clone()));
                    }
                    Link::Up => {
                        tokio::spawn(forward(client, upstream, rx.clone()));
                    }
                }
            }
        });
        Self { addr, link, acceptor }
    }

    /// The proxy's own address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A Redis URL pointing at the proxy.
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// Cuts every connection and refuses new ones until [`Self::restore`].
    pub fn cut(&self) {
        self.link.send_replace(Link::Cut);
    }

    /// Stops forwarding while keeping connections open until [`Self::restore`] (or [`Self::cut`]).
    pub fn blackhole(&self) {
        self.link.send_replace(Link::Blackhole);
    }

    /// Forwards again (connections cut or black-holed meanwhile stay dead; clients must reconnect).
    pub fn restore(&self) {
        self.link.send_replace(Link::Up);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.acceptor.abort();
        self.link.send_replace(Link::Cut);
    }
}

/// The shared test server: `REDIS_URL`, else `redis://127.0.0.1:6379`.
#[must_use]
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn upstream_addr() -> SocketAddr {
    let url = redis_url();
    let host_port = url.trim_start_matches("redis://").split('/').next().unwrap_or("127.0.0.1:6379").to_owned();
    host_port.parse().expect("REDIS_URL for the proxy tests must be redis://IP:PORT")
}

async fn forward(mut client: TcpStream, upstream: SocketAddr, mut rx: watch::Receiver<Link>) {
    let Ok(mut server) = TcpStream::connect(upstream).await else { return };
    let changed = tokio::select! {
        _ = copy_bidirectional(&mut client, &mut server) => None,
        link = rx.wait_for(|link| *link != Link::Up) => link.ok().map(|l| *l),
    };
    if changed == Some(Link::Blackhole) {
        let _ = rx.wait_for(|link| *link != Link::Blackhole).await;
    }
    // Dropping both sockets here is what cuts the link.
}

async fn hold_until_changed(client: TcpStream, mut rx: watch::Receiver<Link>) {
    let _ = rx.wait_for(|link| *link != Link::Blackhole).await;
    drop(client);
}
