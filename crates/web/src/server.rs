//! The accept loop: hyper's HTTP/1 server with a timer, so a client that sends its headers
//! slowly (or never), or keeps a connection idle, is disconnected.
//!
//! `axum::serve` builds its hyper connections without a timer, and hyper's header-read
//! timeout does nothing without one: a connection that sent half a request line stayed open
//! forever (issue 10, "slow-header connections are never closed"). Here every connection
//! gets [`hyper_util::rt::TokioTimer`] and `header_read_timeout`. Hyper starts that timer
//! whenever it waits for a request head — on a new connection and again after each
//! response — so the same bound is also the keep-alive idle timeout.
//!
//! Hyper has no timeout for the body, and a per-read timeout would not help: a client that
//! announces `Content-Length: 1000` and then sends one byte a second never lets it fire.
//! So every request body gets [`DeadlineBody`]: the whole body must arrive within the same
//! bound, counted from the first time a handler reads it, or reading it fails (the handler
//! answers 400 and the connection is closed). The attack re-run found a webhook POST held
//! open this way indefinitely.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
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
    /// Time a client has to send a complete request head (request line and headers), the
    /// longest a kept-alive connection may sit idle between requests, and the time a request
    /// body has to arrive once a handler starts reading it.
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
                req.map(|body| axum::body::Body::new(DeadlineBody::new(body, timeouts.header_read)))
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

/// A request body that must be read completely within `limit` of its first read (see the
/// module's comment). Past the deadline it yields an error instead of waiting for more.
pub struct DeadlineBody<B> {
    inner: B,
    limit: Duration,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<B> DeadlineBody<B> {
    pub fn new(inner: B, limit: Duration) -> Self {
        DeadlineBody {
            inner,
            limit,
            deadline: None,
        }
    }
}

/// The error of a body that did not arrive in time.
#[derive(Debug)]
pub struct BodyTooSlow;

impl std::fmt::Display for BodyTooSlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("request body not received in time")
    }
}

impl std::error::Error for BodyTooSlow {}

impl<B> hyper::body::Body for DeadlineBody<B>
where
    B: hyper::body::Body + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = B::Data;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        // Data already here is delivered first: a body that arrived in time is never refused
        // because its reader was slow.
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => return Poll::Ready(frame.map(|f| f.map_err(Into::into))),
            Poll::Pending => {}
        }
        let limit = this.limit;
        let deadline = this
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTooSlow)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}
