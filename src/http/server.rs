//! The listener of `serve`: hyper's HTTP/1.1 connections under the router,
//! with the connection limits `axum::serve` does not expose.
//!
//! - A client that has not sent a whole request head within
//!   `header_read_timeout` of connecting gets a 408 and is disconnected;
//!   later requests on a kept-alive connection get hyper's own header
//!   timeout (the connection is closed).
//! - Request heads are bounded in size and header count (hyper answers 431
//!   beyond them; the router's own, smaller limit answers first with the
//!   usual `{error, message}`).
//! - Every request carries the peer's address as [`ClientIp`].
//! - On shutdown, the listener closes and open connections finish their
//!   requests, for at most [`DRAIN`].

use std::future::Future;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt as _;

use super::limits::ClientIp;

/// Connection-level limits.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// Longest wait for a request head.
    pub header_read_timeout: Duration,
    /// Largest request head hyper reads (at least 8 KiB).
    pub max_head_bytes: usize,
    /// Most header fields in one request.
    pub max_headers: usize,
}

impl Default for ConnLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_head_bytes: 64 * 1024,
            max_headers: 100,
        }
    }
}

/// How long open connections may take to finish after a shutdown signal.
pub const DRAIN: Duration = Duration::from_secs(10);

/// The answer to a client that sent no whole request head in time.
fn too_slow() -> Vec<u8> {
    super::error::ApiError::head_too_slow().raw_response()
}

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn run(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        // Ours answers a connection's first request with a 408 (see
        // `guard_connection`); hyper's, a little longer so that ours fires
        // first, closes kept-alive connections whose next head is slow.
        .header_read_timeout(limits.header_read_timeout + Duration::from_millis(500))
        .max_buf_size(limits.max_head_bytes.max(8192))
        .max_headers(limits.max_headers);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors and the like: wait, then go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok((stream, writer)) = split_for_timeout(stream) else {
            continue;
        };
        let seen = Arc::new(AtomicBool::new(false));
        let service = {
            let seen = Arc::clone(&seen);
            let app = app.clone();
            hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                seen.store(true, Ordering::Relaxed);
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ClientIp(peer.ip()));
                app.clone().oneshot(request)
            })
        };
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(guard_connection(
            connection,
            seen,
            writer,
            peer,
            limits.header_read_timeout,
        ));
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the drain time; closing them");
    }
    Ok(())
}

/// The stream for hyper and a second handle on the same socket, to answer
/// a client too slow to send its request head.
fn split_for_timeout(stream: TcpStream) -> std::io::Result<(TcpStream, std::net::TcpStream)> {
    let _ = stream.set_nodelay(true);
    let socket = stream.into_std()?;
    let writer = socket.try_clone()?;
    Ok((TcpStream::from_std(socket)?, writer))
}

async fn guard_connection<C, E>(
    connection: C,
    seen: Arc<AtomicBool>,
    writer: std::net::TcpStream,
    peer: SocketAddr,
    header_read_timeout: Duration,
) where
    C: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    tokio::pin!(connection);
    tokio::select! {
        result = &mut connection => {
            log_end(result, peer);
            return;
        }
        () = tokio::time::sleep(header_read_timeout) => {}
    }
    if seen.load(Ordering::Relaxed) {
        log_end(connection.await, peer);
        return;
    }
    // Best effort: the socket is non-blocking and the answer small.
    let _ = (&writer).write_all(&too_slow());
    let _ = writer.shutdown(std::net::Shutdown::Both);
    tracing::info!(
        target: "sfn_callbacks::request",
        status = 408,
        peer = %peer.ip(),
        "no request head in time; connection closed"
    );
}

fn log_end<E: std::fmt::Display>(result: Result<(), E>, peer: SocketAddr) {
    if let Err(e) = result {
        tracing::debug!(error = %e, peer = %peer.ip(), "connection ended with an error");
    }
}
