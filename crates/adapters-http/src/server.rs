//! The HTTP server: connections accepted on a listener and served by the router, with a deadline on request
//! headers, and a drain on shutdown that ends within its grace period whatever the clients do.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
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
#[derive(Debug, Clone)]
pub struct ConnectionCloser(CancellationToken);

impl ConnectionCloser {
    /// Closes the connection now; what it was sending is lost.
    pub fn close(&self) {
        self.0.cancel();
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
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(settings.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
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
                let closer = ConnectionCloser(CancellationToken::new());
                let close = closer.0.clone();
                let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                    req.extensions_mut().insert(ConnectInfo(peer));
                    req.extensions_mut().insert(closer.clone());
                    let app = app.clone();
                    async move { Ok::<_, Infallible>(app.oneshot(req.map(Body::new)).await.unwrap_or_else(|e| match e {})) }
                });
                let io = TokioIo::new(ProblemOnParseError::new(stream));
                let connection = builder.serve_connection_with_upgrades(io, service).into_owned();
                let connection = graceful.watch(connection);
                connections.spawn(async move {
                    tokio::select! {
                        ended = connection => if let Err(error) = ended {
                            tracing::debug!(%error, "connection ended with an error");
                        },
                        () = close.cancelled() => tracing::debug!("connection closed by the server"),
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
