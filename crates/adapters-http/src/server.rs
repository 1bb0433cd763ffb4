//! The HTTP server: connections accepted on a listener and served by the router, with a deadline on request
//! headers, and a drain on shutdown that ends within its grace period whatever the clients do.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use futures::future::{AbortHandle, Abortable, Aborted};
use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tower::ServiceExt as _;

use crate::parse_errors::ProblemOnParseError;

/// How the server treats connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerSettings {
    /// How long a client may take to send a request's headers (a connection that stalls is closed).
    pub header_read_timeout: Duration,
    /// How long in-flight requests may take to finish after shutdown begins; connections still open then are closed.
    pub shutdown_grace: Duration,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self { header_read_timeout: Duration::from_secs(10), shutdown_grace: Duration::from_secs(20) }
    }
}

/// Closes the connection a request came on, whatever it is doing (say, stuck writing to a client that stopped
/// reading). Every request served by [`serve`] carries one in its extensions.
///
/// An abort handle rather than a cancellation token: the connection's future checks it at every poll, which for an
/// event stream is every event, and an abort is one atomic load where a token's check takes a lock.
#[derive(Debug, Clone)]
pub struct ConnectionCloser(AbortHandle);

impl ConnectionCloser {
    /// Closes the connection now; what it was sending is lost.
    pub fn close(&self) {
        self.0.abort();
    }
}

/// The HTTP/2 connection preface (RFC 9113, section 3.4), with which a client speaking HTTP/2 with prior knowledge
/// (h2c) starts.
const HTTP2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The protocol a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Http1,
    Http2,
}

/// Which protocol the client speaks, told by its first bytes: HTTP/2 if they are the preface, else HTTP/1.
///
/// It looks at them without reading them (`peek`), so that hyper's first read of an HTTP/1 connection takes the
/// whole request head into its 8 KiB buffer. hyper-util's automatic detection reads the first 24 bytes and hands them
/// back through a wrapper: hyper's first read then returns those 24 bytes alone and its second grows the buffer to
/// 16 KiB, copying 8 KiB, which every connection kept (an idle event stream cost 23 KiB of resident memory, 11 KiB
/// without it; `docs/performance.md`).
async fn protocol(stream: &TcpStream) -> std::io::Result<Protocol> {
    let mut head = [0_u8; HTTP2_PREFACE.len()];
    loop {
        let seen = stream.peek(&mut head).await?;
        if seen == 0 || !HTTP2_PREFACE.starts_with(&head[..seen]) {
            // An HTTP/1 request, or a connection closed before it said anything (hyper sees the end and stops).
            return Ok(Protocol::Http1);
        }
        if seen == HTTP2_PREFACE.len() {
            return Ok(Protocol::Http2);
        }
        // Part of the preface and nothing more yet (a client pausing inside its first 24 bytes: rare): `peek` would
        // return the same bytes at once, so look again a little later.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// How a drain ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drained {
    /// Every connection finished within the grace period.
    Clean,
    /// The grace period ran out; this many connections were closed with it.
    Forced(usize),
}

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting, lets in-flight requests finish
/// for at most [`ServerSettings::shutdown_grace`], and closes whatever is left.
///
/// Each request carries its peer's [`ConnectInfo<std::net::SocketAddr>`].
pub async fn serve(
    listener: TcpListener,
    router: Router,
    settings: ServerSettings,
    shutdown: impl Future<Output = ()>,
) -> Drained {
    let mut http1 = http1::Builder::new();
    http1.timer(TokioTimer::new()).header_read_timeout(settings.header_read_timeout);
    let mut http2 = http2::Builder::new(TokioExecutor::new());
    http2.timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            // Finished connections are reaped as they end, so the set holds only open ones.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors or similar: back off instead of spinning.
                        tracing::warn!(%error, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let app = router.clone();
                let (abort, close) = AbortHandle::new_pair();
                let closer = ConnectionCloser(abort);
                let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                    req.extensions_mut().insert(ConnectInfo(peer));
                    req.extensions_mut().insert(closer.clone());
                    let app = app.clone();
                    async move { Ok::<_, Infallible>(app.oneshot(req.map(Body::new)).await.unwrap_or_else(|e| match e {})) }
                });
                let (http1, http2, watcher) = (http1.clone(), http2.clone(), graceful.watcher());
                let header_read_timeout = settings.header_read_timeout;
                connections.spawn(async move {
                    let served = async {
                        // A client that sends nothing is closed as hyper closes one that stalls in its headers.
                        let protocol = tokio::time::timeout(header_read_timeout, protocol(&stream)).await;
                        let io = TokioIo::new(ProblemOnParseError::new(stream));
                        match protocol {
                            Ok(Ok(Protocol::Http1)) => {
                                watcher.watch(http1.serve_connection(io, service)).await
                            }
                            Ok(Ok(Protocol::Http2)) => watcher.watch(http2.serve_connection(io, service)).await,
                            Ok(Err(_)) | Err(_) => Ok(()),
                        }
                    };
                    match Abortable::new(served, close).await {
                        Ok(Ok(())) => {}
                        Ok(Err(error)) => tracing::debug!(%error, "connection ended with an error"),
                        Err(Aborted) => tracing::debug!("connection closed by the server"),
                    }
                });
            }
        }
    }
    drop(listener);
    tracing::info!(
        open = connections.len(),
        grace_secs = settings.shutdown_grace.as_secs_f64(),
        "draining connections"
    );
    let drained = tokio::time::timeout(settings.shutdown_grace, async {
        graceful.shutdown().await;
        while connections.join_next().await.is_some() {}
    })
    .await;
    match drained {
        Ok(()) => Drained::Clean,
        Err(_) => {
            let left = connections.len();
            connections.abort_all();
            while connections.join_next().await.is_some() {}
            Drained::Forced(left)
        }
    }
}
