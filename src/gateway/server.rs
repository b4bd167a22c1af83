//! Serving the gateway on a bound listener: HTTP/1.1 (keep-alive) and h2c
//! on one port (or both over TLS, by ALPN), slow clients cut off, connections drained on shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::{self, Either};
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::{Gateway, PeerAddr};

/// Pause after a failed `accept` (out of file descriptors, say), so the
/// loop does not spin while the condition lasts.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `gateway` on `listener` (over TLS when `tls` is given) until
/// `shutdown` completes; then stops accepting, lets in-flight requests
/// finish and closes idle connections, and returns once every connection is
/// gone. The caller bounds that wait with its grace period: dropping this
/// future closes whatever is left.
pub async fn serve(
    listener: TcpListener,
    gateway: Gateway,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let settings = ConnectionSettings {
        max_header_bytes: gateway.0.max_header_bytes,
        read_timeout: gateway.0.read_timeout,
    };
    // Requests that need not wait (reads, `/auth`) are answered right
    // here. The others are boxed: the gateway's future is about 2 KiB (the
    // request, its parts, the exchange), and hyper moves the future it is
    // given more than once per request; a box is one allocation instead of
    // copies of it all.
    let handler = move |request| match gateway.answer_now(request) {
        Ok(response) => Either::Left(future::ready(response)),
        Err(request) => {
            let gateway = gateway.clone();
            Either::Right(Box::pin(async move { gateway.answer_later(request).await }))
        }
    };
    serve_with(listener, settings, tls, handler, shutdown).await
}

/// How the gateway's connections are served: the head buffer (431 past
/// it) and the slow-client bound.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionSettings {
    pub max_header_bytes: usize,
    pub read_timeout: Duration,
}

impl ConnectionSettings {
    /// The settings `config` gives the gateway.
    pub fn from_config(config: &crate::config::Config) -> Self {
        ConnectionSettings {
            max_header_bytes: config.gateway.max_header_bytes,
            read_timeout: config.gateway.http_read_timeout,
        }
    }
}

/// Serves any `handler` exactly as [`serve`] serves the gateway: same
/// connection settings, accept loop, TLS and shutdown. sessiond-bench serves
/// its hello-world baseline with it, so the two differ only in the handler.
/// Each request carries the peer's address as a [`PeerAddr`] extension.
pub async fn serve_with<H, F>(
    listener: TcpListener,
    settings: ConnectionSettings,
    tls: Option<TlsAcceptor>,
    handler: H,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()>
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let builder = connection_builder(settings);
    let read_timeout = settings.read_timeout;
    let graceful = GracefulShutdown::new();
    // Owned here, so that dropping `serve` aborts every connection task.
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tracing::warn!(error = %e, "HTTP accept failed");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let connection = Connection {
                    builder: builder.clone(),
                    watcher: graceful.watcher(),
                    handler: handler.clone(),
                    peer,
                    read_timeout,
                };
                let tls = tls.clone();
                // The TLS handshake runs in the connection's task, so a slow
                // one holds up nobody else; it too must finish in time.
                connections.spawn(async move {
                    let Some(acceptor) = tls else {
                        return connection.serve(stream).await;
                    };
                    match tokio::time::timeout(read_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => connection.serve(stream).await,
                        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake not finished in time; closed"),
                    }
                });
            }
            Some(_) = connections.join_next() => {}
        }
    }
    drop(listener);
    graceful.shutdown().await;
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// One accepted connection, ready to serve once its transport is.
struct Connection<H> {
    builder: auto::Builder<TokioExecutor>,
    watcher: Watcher,
    handler: H,
    peer: SocketAddr,
    read_timeout: Duration,
}

impl<H, F> Connection<H>
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    async fn serve<IO>(self, io: IO)
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Connection {
            builder,
            watcher,
            handler,
            peer,
            read_timeout,
        } = self;
        // Set by the first request: a connection that sends none within the
        // read timeout is dropped (hyper's own head timeout starts only once
        // HTTP/1 has been detected).
        let active = Arc::new(AtomicBool::new(false));
        let service = service_fn({
            let active = active.clone();
            move |mut request: Request<Incoming>| {
                active.store(true, Ordering::Relaxed);
                request.extensions_mut().insert(PeerAddr(peer));
                let answer = handler(request);
                async move { Ok::<_, Infallible>(answer.await) }
            }
        });
        let connection = builder
            .serve_connection(TokioIo::new(io), service)
            .into_owned();
        let connection = watcher.watch(connection);
        tokio::pin!(connection);
        let ended = tokio::select! {
            ended = &mut connection => ended,
            () = tokio::time::sleep(read_timeout) => {
                if !active.load(Ordering::Relaxed) {
                    tracing::debug!("HTTP connection sent no request in time; closed");
                    return;
                }
                connection.await
            }
        };
        if let Err(e) = ended {
            tracing::debug!(error = %e, "HTTP connection ended with an error");
        }
    }
}

/// hyper-util's auto builder with the gateway's limits: the head buffer
/// (431 past it) and the time to send a head.
fn connection_builder(shared: ConnectionSettings) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .header_read_timeout(shared.read_timeout)
        .max_buf_size(shared.max_header_bytes);
    // The header count keeps hyper's default bound, 100 (431 past it): set
    // explicitly, even to 100, hyper fills two 100-slot arrays on the heap
    // path on every parse, ~1 700 instructions per request.
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(shared.max_header_bytes).unwrap_or(u32::MAX))
        .max_concurrent_streams(256)
        .keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(10));
    builder
}
