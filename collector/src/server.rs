//! Serving a router on a TCP listener: HTTP/1.1 with keep-alive, a deadline for a client's
//! request head, a cap on open connections, and a graceful stop.
//!
//! Why not `axum::serve`: it sets no timer, so a client that sends its headers one byte a
//! minute keeps a connection forever; here hyper gets a timer and a header deadline.
//!
//! A graceful stop: stop accepting, let requests in flight finish (idle keep-alive
//! connections are closed), and after `grace` abandon the rest. A request that was abandoned
//! was never answered, so nothing acknowledged is lost (every 2xx is sent after its commit).
//! A lingering close: a connection the server closes (say after a 413 to a 10 MB body it did not
//! read) is first half-closed, and what the client still sends is read and dropped for up to
//! `LINGER` (at most `LINGER_BYTES`), so that the client, still sending, gets to read the answer
//! instead of a reset (the kernel resets a socket closed with unread data).
//!
//! Owns: the accept loop. Must never: stop accepting on a transient accept error (too many
//! open files), or wait for a stalled client longer than `grace`.
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// How long a client has to send its request line and headers.
pub const HEADER_DEADLINE: Duration = Duration::from_secs(10);
/// How long, and how much, a closed connection's remaining input is read and dropped.
pub const LINGER: Duration = Duration::from_secs(2);
pub const LINGER_BYTES: u64 = 32 << 20;

/// A TCP stream that lingers when dropped (see the module documentation).
struct Linger(Option<tokio::net::TcpStream>);

impl Drop for Linger {
    fn drop(&mut self) {
        let Some(mut s) = self.0.take() else { return };
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        rt.spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let _ = s.shutdown().await;
            let drain = async {
                let mut sink = tokio::io::sink();
                let _ = tokio::io::copy(&mut (&mut s).take(LINGER_BYTES), &mut sink).await;
            };
            let _ = tokio::time::timeout(LINGER, drain).await;
        });
    }
}

impl Linger {
    fn pin(&mut self) -> std::pin::Pin<&mut tokio::net::TcpStream> {
        // Some until dropped.
        std::pin::Pin::new(self.0.as_mut().expect("the stream until drop"))
    }
}

impl tokio::io::AsyncRead for Linger {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        self.pin().poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Linger {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.pin().poll_write(cx, buf)
    }
    fn poll_flush(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
        self.pin().poll_flush(cx)
    }
    fn poll_shutdown(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
        self.pin().poll_shutdown(cx)
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then stops gracefully within
/// `grace`. At most `max_connections` connections are open at once (more wait in the backlog).
pub async fn serve(listener: TcpListener, router: Router, max_connections: usize, grace: Duration, shutdown: impl Future<Output = ()>) {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(max_connections.max(1)));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = &mut shutdown => break,
        };
        let (stream, _) = tokio::select! {
            a = listener.accept() => match a {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let svc = TowerToHyperService::new(router.clone());
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new()).header_read_timeout(HEADER_DEADLINE).keep_alive(true);
        let io = TokioIo::new(Linger(Some(stream)));
        let conn = graceful.watch(http.serve_connection(io, svc));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("connection: {e}");
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(grace) => {
            tracing::warn!("stopping: requests still in flight after {grace:?} are abandoned (none was acknowledged)");
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
