//! The admin listener, kept off the public ports: `GET /healthz` (the
//! process is alive), `GET /readyz` (ready for traffic: 503 while starting
//! and draining) and `GET /metrics` (Prometheus text format).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::sync::{Arc, OnceLock};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::lifecycle::Lifecycle;
use crate::metrics::{self, Metrics};
use crate::storage::durable::Persistence;
use crate::storage::Storage;

/// What the admin routes read: all cheap `Clone` handles.
#[derive(Clone)]
pub struct Admin {
    pub lifecycle: Lifecycle,
    pub metrics: Metrics,
    pub store: Storage,
    /// Set once recovery from `--data-dir` has finished.
    pub persistence: Arc<OnceLock<Arc<Persistence>>>,
}

impl Admin {
    /// Answers one request. No route changes state, so none needs a body.
    pub fn respond(&self, method: &Method, path: &str) -> Response<Full<Bytes>> {
        let route = match path {
            "/healthz" | "/readyz" | "/metrics" => path,
            _ => return text(StatusCode::NOT_FOUND, "not found\n"),
        };
        if method != Method::GET && method != Method::HEAD {
            let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "use GET\n");
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            return response;
        }
        match route {
            "/healthz" => text(StatusCode::OK, "ok\n"),
            "/readyz" => {
                let phase = self.lifecycle.phase();
                let status = if self.lifecycle.is_ready() {
                    StatusCode::OK
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                };
                text(status, format!("{}\n", phase.as_str()))
            }
            _ => {
                if let Some(persistence) = self.persistence.get() {
                    self.metrics.set_persistence(persistence.stats());
                }
                let body = self
                    .metrics
                    .render(self.store.stats(), self.store.limits().max_sessions);
                let mut response = text(StatusCode::OK, body);
                response.headers_mut().insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static(metrics::CONTENT_TYPE),
                );
                response
            }
        }
    }
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    // Probes and scrapes must see the state now, not a cached one.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Serves HTTP/1.1 on `listener` until `shutdown` completes, then stops
/// accepting and waits for open connections to finish their request (idle
/// keep-alive connections are closed at once). The caller bounds the wait.
pub async fn serve(
    listener: TcpListener,
    admin: Admin,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Per-connection errors (the peer reset, fds ran out
                    // for a moment) must not stop the listener.
                    tracing::warn!(error = %e, "admin: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let admin = admin.clone();
        let service = service_fn(move |request: Request<Incoming>| {
            let response = admin.respond(request.method(), request.uri().path());
            async move { Ok::<_, Infallible>(response) }
        });
        let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "admin: connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::session::{Limits, Timeouts};
    use crate::storage::memory::Memory;

    fn admin() -> Admin {
        Admin {
            lifecycle: Lifecycle::default(),
            metrics: Metrics::new(),
            persistence: Default::default(),
            store: Storage::new(Memory::new(
                Limits::default(),
                Timeouts::default(),
                Clock::manual(0),
            )),
        }
    }

    #[test]
    fn readiness_follows_the_lifecycle_and_health_does_not() {
        let admin = admin();
        let status = |path| admin.respond(&Method::GET, path).status();
        assert_eq!(status("/readyz"), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(status("/healthz"), StatusCode::OK);
        admin.lifecycle.set_serving();
        assert_eq!(status("/readyz"), StatusCode::OK);
        admin.lifecycle.start_draining();
        assert_eq!(status("/readyz"), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(status("/healthz"), StatusCode::OK);
    }

    #[test]
    fn unknown_paths_and_methods_are_refused() {
        let admin = admin();
        assert_eq!(
            admin.respond(&Method::GET, "/").status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            admin.respond(&Method::GET, "/metricsx").status(),
            StatusCode::NOT_FOUND
        );
        let post = admin.respond(&Method::POST, "/metrics");
        assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(post.headers()[ALLOW], "GET, HEAD");
    }

    #[test]
    fn metrics_carry_the_prometheus_content_type() {
        let response = admin().respond(&Method::GET, "/metrics");
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"));
    }
}
