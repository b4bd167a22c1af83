//! The gRPC side of access control: a tower layer over `SessionService`
//! that resolves each request's credential to an [`Access`] before any
//! handler runs (before the message is even decoded), and puts it in the
//! request's extensions for the handler; a request without a valid
//! credential gets `UNAUTHENTICATED` and reaches no handler. Health and
//! reflection stay open: they hold no sessions.
//!
//! It does what a tonic `Interceptor` would, on the `http::Request`
//! itself: tonic's `InterceptedService` converts every request to a
//! `tonic::Request` and back (cloning its URI and method) for the
//! interceptor to see it, which showed in the profile of a Get
//! (BENCHMARKS.md).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::header::AUTHORIZATION;
use tonic::body::Body;
use tonic::codegen::Service;
use tonic::server::NamedService;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use tonic::Status;

use crate::auth::{tls, Access, Tokens};
use crate::metrics::{Api, Metrics};

/// How callers prove who they are, fixed at start (the tokens themselves
/// reload on SIGHUP).
#[derive(Clone)]
pub struct Authenticate {
    /// Bearer tokens, when `--tokens-file` is set.
    tokens: Option<Tokens>,
    /// Whether client certificates name namespaces (`--tls-client-ca`).
    mtls: bool,
    /// Refusals are counted with the other requests.
    metrics: Metrics,
}

impl Authenticate {
    pub fn new(tokens: Option<Tokens>, mtls: bool, metrics: Metrics) -> Self {
        Authenticate {
            tokens,
            mtls,
            metrics,
        }
    }

    /// Whose request this is. A bearer token, when sent, decides (a wrong
    /// one is refused even if a certificate would do); else the client
    /// certificate; else, only when no access control is configured at all,
    /// full access to the default namespace.
    fn resolve<B>(&self, request: &http::Request<B>) -> Result<Access, Status> {
        if let Some(value) = request.headers().get(AUTHORIZATION) {
            let Some(tokens) = &self.tokens else {
                return Err(Status::unauthenticated(
                    "this server takes no bearer tokens (it has no --tokens-file)",
                ));
            };
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or_else(|| {
                    Status::unauthenticated("the authorization metadata must be `Bearer <token>`")
                })?;
            return tokens
                .check(token.trim())
                .ok_or_else(|| Status::unauthenticated("unknown bearer token"));
        }
        if self.mtls {
            let leaf = request
                .extensions()
                .get::<TlsConnectInfo<TcpConnectInfo>>()
                .and_then(|i| i.peer_certs())
                .and_then(|c| c.first().cloned());
            if let Some(leaf) = leaf {
                return tls::namespace_of(&leaf)
                    .map(|namespace| Access {
                        namespace,
                        read_only: false,
                    })
                    .map_err(Status::unauthenticated);
            }
        }
        if self.tokens.is_none() && !self.mtls {
            return Ok(Access::open());
        }
        Err(Status::unauthenticated(
            "missing credential: send `authorization: Bearer <token>` metadata (or a client certificate, where mTLS is on)",
        ))
    }

    /// Resolves the request's credential and puts the [`Access`] in its
    /// extensions, or counts and returns the refusal.
    fn admit<B>(&self, request: &mut http::Request<B>) -> Result<(), Status> {
        match self.resolve(request) {
            Ok(access) => {
                request.extensions_mut().insert(access);
                Ok(())
            }
            Err(status) => {
                tracing::debug!(
                    reason = status.message(),
                    "gRPC request refused: unauthenticated"
                );
                // This layer does not look at which RPC was called.
                self.metrics
                    .record(Api::Grpc, "Authenticate", "UNAUTHENTICATED", Duration::ZERO);
                Err(status)
            }
        }
    }

    /// `service` behind this check.
    pub fn layer<S>(self, service: S) -> Authenticated<S> {
        Authenticated {
            inner: service,
            authenticate: Arc::new(self),
        }
    }
}

/// A gRPC service that only admitted requests reach.
#[derive(Clone)]
pub struct Authenticated<S> {
    inner: S,
    /// Shared: the router clones the service for every request, and one
    /// reference count is cheaper than the tokens' and the metrics' each.
    authenticate: Arc<Authenticate>,
}

impl<S: NamedService> NamedService for Authenticated<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> Service<http::Request<B>> for Authenticated<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>>,
    S::Future: Unpin,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Admitted<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        match self.authenticate.admit(&mut request) {
            Ok(()) => Admitted::Handled(self.inner.call(request)),
            Err(status) => Admitted::Refused(Some(status)),
        }
    }
}

/// The response: the handler's, or the refusal as a gRPC status (in the
/// headers, as tonic sends a status that comes before any message).
pub enum Admitted<F> {
    Handled(F),
    Refused(Option<Status>),
}

impl<F, E> Future for Admitted<F>
where
    F: Future<Output = Result<http::Response<Body>, E>> + Unpin,
{
    type Output = Result<http::Response<Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Admitted::Handled(handled) => Pin::new(handled).poll(cx),
            Admitted::Refused(status) => Poll::Ready(Ok(status
                .take()
                .expect("a refusal is polled once")
                .into_http())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::hash_token_line;
    use crate::session::Namespace;
    use tonic::Code;

    fn tokens() -> (Tokens, tempfile::NamedTempFile) {
        let f = tempfile::NamedTempFile::new().unwrap();
        let shop = Namespace::parse("shop").unwrap();
        std::fs::write(f.path(), hash_token_line(&shop, "t0ken", false)).unwrap();
        (Tokens::load(f.path()).unwrap(), f)
    }

    fn request() -> http::Request<()> {
        http::Request::new(())
    }

    fn with_auth(value: &str) -> http::Request<()> {
        let mut request = request();
        request
            .headers_mut()
            .insert(AUTHORIZATION, value.parse().unwrap());
        request
    }

    #[test]
    fn a_valid_token_puts_its_namespace_in_the_extensions() {
        let (tokens, _f) = tokens();
        let auth = Authenticate::new(Some(tokens), false, Metrics::new());
        let mut request = with_auth("Bearer t0ken");
        auth.admit(&mut request).unwrap();
        let access = request.extensions().get::<Access>().unwrap();
        assert_eq!(access.namespace.as_str(), "shop");
        assert!(!access.read_only);
    }

    #[test]
    fn missing_malformed_and_unknown_tokens_are_unauthenticated() {
        let (tokens, _f) = tokens();
        let auth = Authenticate::new(Some(tokens), false, Metrics::new());
        for mut request in [
            request(),
            with_auth("t0ken"),
            with_auth("Basic t0ken"),
            with_auth("Bearer wrong"),
        ] {
            let refused = auth.admit(&mut request).unwrap_err();
            assert_eq!(refused.code(), Code::Unauthenticated);
            assert!(request.extensions().get::<Access>().is_none());
        }
    }

    #[test]
    fn with_no_access_control_every_caller_gets_the_default_namespace() {
        let auth = Authenticate::new(None, false, Metrics::new());
        let mut request = request();
        auth.admit(&mut request).unwrap();
        assert_eq!(request.extensions().get::<Access>(), Some(&Access::open()));
        let refused = auth.admit(&mut with_auth("Bearer x")).unwrap_err();
        assert_eq!(refused.code(), Code::Unauthenticated);
    }

    #[tokio::test]
    async fn a_refused_request_reaches_no_handler_and_gets_its_status() {
        let (tokens, _f) = tokens();
        let auth = Authenticate::new(Some(tokens), false, Metrics::new());
        let handler = tower_service_fn(|_| panic!("the handler ran"));
        let response = auth.layer(handler).call(request()).await.unwrap();
        let status = Status::from_header_map(response.headers()).unwrap();
        assert_eq!(status.code(), Code::Unauthenticated);
    }

    /// A handler for the layer's tests, with the future type it needs.
    fn tower_service_fn(
        f: fn(http::Request<()>) -> http::Response<Body>,
    ) -> impl Service<
        http::Request<()>,
        Response = http::Response<Body>,
        Error = std::convert::Infallible,
        Future = std::future::Ready<Result<http::Response<Body>, std::convert::Infallible>>,
    > {
        struct Handler(fn(http::Request<()>) -> http::Response<Body>);
        impl Service<http::Request<()>> for Handler {
            type Response = http::Response<Body>;
            type Error = std::convert::Infallible;
            type Future = std::future::Ready<Result<http::Response<Body>, Self::Error>>;
            fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
                Poll::Ready(Ok(()))
            }
            fn call(&mut self, request: http::Request<()>) -> Self::Future {
                std::future::ready(Ok((self.0)(request)))
            }
        }
        Handler(f)
    }
}
