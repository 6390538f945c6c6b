//! The accept loop: hyper's HTTP/1 server with a timer, so a client that sends its headers
//! slowly (or never), or keeps a connection idle, is disconnected.
//!
//! `axum::serve` builds its hyper connections without a timer, and hyper's header-read
//! timeout does nothing without one: a connection that sent half a request line stayed open
//! forever (issue 10, "slow-header connections are never closed"). Here every connection
//! gets [`hyper_util::rt::TokioTimer`] and `header_read_timeout`. Hyper starts that timer
//! whenever it waits for a request head — on a new connection and again after each
//! response — so the same bound is also the keep-alive idle timeout.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// Default for [`ServerTimeouts::header_read`]: hyper's own default, which it only applies
/// when a timer is set. Longer than the proxies' idle upstream keep-alive (10 s in
/// `deploy/proxy/`), so the proxy, not the app, closes an idle pooled connection.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Connection-level timeouts of the HTTP server.
#[derive(Debug, Clone, Copy)]
pub struct ServerTimeouts {
    /// Time a client has to send a complete request head (request line and headers), and the
    /// longest a kept-alive connection may sit idle between requests.
    pub header_read: Duration,
}

impl Default for ServerTimeouts {
    fn default() -> Self {
        ServerTimeouts {
            header_read: DEFAULT_HEADER_READ_TIMEOUT,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting, lets
/// in-flight requests finish and closes idle connections.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    timeouts: ServerTimeouts,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning, like
                    // axum::serve does.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |mut req: axum::http::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                req
            });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(timeouts.header_read);
        // No upgrades: nothing here speaks WebSocket.
        let conn =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                // Timeouts and clients that hang up are routine, not errors of ours.
                tracing::debug!(error = %e, %peer, "connection ended");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
