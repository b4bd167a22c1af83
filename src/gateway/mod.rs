//! The HTTP gateway: browser cookies in, sessions out. Calls the storage
//! boundary in process (never loops back through gRPC).
//!
//! - [`server`]: accepts connections (HTTP/1.1 keep-alive and h2c on one
//!   port, via hyper-util's auto builder) and drains them on shutdown.
//! - `routes`: the route table; `handlers`: one handler per route.
//! - `cookie`, `csrf`, `etag`, `auth`, `body`: one concern
//!   each; `error`: every refusal mapped to a status, in one place;
//!   `reply`: responses, cookies and common headers.
//!
//! [`Gateway::handle`] answers one request without a socket, so it can be
//! driven directly; it is also the one place where each request's route,
//! method, status and latency are all known (see `observe`).

mod auth;
mod body;
mod cookie;
mod csrf;
mod error;
mod etag;
mod handlers;
mod reply;
mod routes;
mod server;
mod users;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode, Version};
use http_body_util::Full;
use hyper::body::Body;
use tracing::Instrument;

use crate::config::{normalize_origin, Config};
use crate::lifecycle::Lifecycle;
use crate::metrics::{Api, Metrics};
use crate::session::Namespace;
use crate::storage::Storage;
use auth::AuthHeader;
use cookie::CookiePolicy;
use handlers::Exchange;
use routes::Route;

pub use server::{serve, serve_with, ConnectionSettings};

/// The address a request came from: set by [`serve`] in each request's
/// extensions, for brute-force detection. Absent when driven without a
/// socket.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub std::net::SocketAddr);

/// The gateway: a cheap `Clone` handle, one per connection.
#[derive(Clone)]
pub struct Gateway(Arc<Shared>);

/// What every request needs, fixed at start.
struct Shared {
    store: Storage,
    /// The one namespace this gateway serves (`--http-namespace`).
    namespace: Namespace,
    /// Requests arriving once the listeners close get 503.
    lifecycle: Lifecycle,
    /// Every request is counted here (see `observe`).
    metrics: Metrics,
    cookie: CookiePolicy,
    /// Normalized (`scheme://host[:port]`) origins allowed besides our own.
    allowed_origins: Vec<String>,
    /// The keys `GET /auth` exports, with their header names.
    auth_headers: Vec<AuthHeader>,
    /// Keys that must be truthy for `GET /auth` to pass.
    auth_require: Vec<String>,
    max_body_bytes: usize,
    /// For `hyper`'s head buffer: larger heads get 431.
    max_header_bytes: usize,
    /// Slow-client bound for a request's head and for its body.
    read_timeout: Duration,
}

impl Gateway {
    /// A gateway over `store` with the HTTP settings of `config` (already
    /// validated), serving the namespace `--http-namespace` names.
    pub fn new(store: Storage, lifecycle: Lifecycle, metrics: Metrics, config: &Config) -> Self {
        Gateway(Arc::new(Shared {
            store,
            namespace: config.gateway.http_namespace(),
            lifecycle,
            metrics,
            cookie: CookiePolicy::from_config(config),
            allowed_origins: config
                .gateway
                .allowed_origins
                .iter()
                .filter_map(|o| normalize_origin(o))
                .collect(),
            auth_headers: auth::auth_headers(&config.gateway.auth_headers),
            auth_require: config
                .gateway
                .auth_require
                .iter()
                .filter(|k| !k.is_empty())
                .cloned()
                .collect(),
            max_body_bytes: config.gateway.max_body_bytes,
            max_header_bytes: config.gateway.max_header_bytes,
            read_timeout: config.gateway.http_read_timeout,
        }))
    }

    /// Answers one request. Never fails: every refusal is a response.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        match self.answer_now(request) {
            Ok(response) => response,
            Err(request) => self.answer_later(request).await,
        }
    }

    /// Answers at once a request that changes nothing and has no body (a
    /// read, or `/auth`): nothing in it can wait, so it runs as a plain
    /// call instead of a future, which hyper would box and move. Any other
    /// request is handed back for [`Self::answer_later`].
    // The request handed back is moved once, as it would be anyway; a box
    // would add an allocation to every request that waits.
    #[allow(clippy::result_large_err)]
    pub fn answer_now<B: Body>(
        &self,
        request: Request<B>,
    ) -> Result<Response<Full<Bytes>>, Request<B>> {
        let route = Route::parse(request.uri().path());
        if !(body::absent(request.headers(), request.body())
            && Exchange::answers_at_once(&route, request.method())
            && self.0.store.reads_at_once())
        {
            return Err(request);
        }
        let observed = Observed::start(&route, request.method());
        let _entered = observed.span.enter();
        let shared = &*self.0;
        let (parts, _) = request.into_parts();
        let mut exchange = Exchange::new(shared, &parts);
        let result = exchange.run_now(route);
        let response = self.render(result, &exchange, &parts);
        Ok(self.finish(&observed, response))
    }

    /// Answers any request, waiting for its body and for its changes to be
    /// durable as it needs.
    pub async fn answer_later<B>(&self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let route = Route::parse(request.uri().path());
        let observed = Observed::start(&route, request.method());
        let shared = &*self.0;
        let response = async {
            let (parts, body) = request.into_parts();
            let mut exchange = Exchange::new(shared, &parts);
            let result = exchange.run(route, body).await;
            self.render(result, &exchange, &parts)
        }
        .instrument(observed.span.clone())
        .await;
        let _entered = observed.span.enter();
        self.finish(&observed, response)
    }

    /// The response to what the exchange found, with `Connection: close`
    /// when a body could not be read to its end.
    fn render(
        &self,
        result: Result<reply::Reply, error::ApiError>,
        exchange: &Exchange<'_>,
        parts: &http::request::Parts,
    ) -> Response<Full<Bytes>> {
        let shared = &*self.0;
        let now = shared.store.clock().now_ms();
        let mut response = reply::render(result, &exchange.cookie, &shared.cookie, now);
        if exchange.close && parts.version < Version::HTTP_2 {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }

    /// Logs and counts a finished request (see [`observe`]).
    fn finish(
        &self,
        observed: &Observed,
        response: Response<Full<Bytes>>,
    ) -> Response<Full<Bytes>> {
        let latency = observed.started.elapsed();
        observe(&observed.method, observed.label, response.status(), latency);
        self.0.metrics.record(
            Api::Http,
            observed.metric_name,
            status_label(response.status()),
            latency,
        );
        response
    }
}

/// What a request is known by in logs and metrics, from its start.
struct Observed {
    started: Instant,
    method: Method,
    label: &'static str,
    metric_name: &'static str,
    span: tracing::Span,
}

impl Observed {
    fn start(route: &Route, method: &Method) -> Self {
        let label = route.label();
        // DEBUG for the cost of an enabled span per request (see the gRPC
        // service); the INFO events inside name their session themselves.
        let span = tracing::debug_span!(
            "http",
            method = %method,
            route = label,
            session = tracing::field::Empty,
        );
        Observed {
            started: Instant::now(),
            method: method.clone(),
            label,
            metric_name: route.metric_name(method),
            span,
        }
    }
}

/// Every request passes here once, with its method, fixed route label,
/// final status and latency: the hook for request metrics.
/// The HTTP status as a fixed metrics label.
fn status_label(status: StatusCode) -> &'static str {
    match status.as_u16() {
        200 => "200",
        201 => "201",
        204 => "204",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        408 => "408",
        409 => "409",
        412 => "412",
        413 => "413",
        415 => "415",
        429 => "429",
        431 => "431",
        503 => "503",
        s if s >= 500 => "5xx",
        _ => "other",
    }
}

fn observe(method: &Method, route: &'static str, status: StatusCode, latency: Duration) {
    tracing::debug!(
        %method,
        route,
        status = status.as_u16(),
        latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
        "http request"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::storage::memory::Memory;

    fn gateway() -> (Gateway, Storage) {
        let config = Config::defaults();
        let memory = Memory::new(
            config.sessions.limits(),
            config.sessions.timeouts(),
            Clock::manual(0),
        );
        let store = Storage::new(memory);
        let lifecycle = Lifecycle::default();
        (
            Gateway::new(store.clone(), lifecycle, Metrics::new(), &config),
            store,
        )
    }

    fn request(
        method: Method,
        path: &str,
        cookie: Option<&str>,
        body: &str,
    ) -> Request<Full<Bytes>> {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(cookie) = cookie {
            builder = builder.header(header::COOKIE, cookie);
        }
        builder
            .body(Full::new(Bytes::from(body.to_owned())))
            .unwrap()
    }

    #[tokio::test]
    async fn the_gateway_answers_without_a_socket() {
        let (gateway, store) = gateway();
        let created = gateway
            .handle(request(Method::POST, "/session", None, r#"{"a": 1}"#))
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
        let set = created.headers()[header::SET_COOKIE].to_str().unwrap();
        let cookie = set.split(';').next().unwrap().to_owned();
        assert_eq!(store.len(), 1);

        let read = gateway
            .handle(request(Method::GET, "/session/keys/a", Some(&cookie), ""))
            .await;
        assert_eq!(read.status(), StatusCode::OK);
        assert_eq!(read.headers()[header::ETAG], "\"1\"");
    }

    #[tokio::test]
    async fn reads_without_a_body_are_answered_at_once_and_the_rest_handed_back() {
        let (gateway, _) = gateway();
        let created = gateway
            .handle(request(Method::POST, "/session", None, r#"{"a": 1}"#))
            .await;
        let set = created.headers()[header::SET_COOKIE].to_str().unwrap();
        let cookie = set.split(';').next().unwrap().to_owned();
        let at_once = |method: Method, path: &str, body: &str| {
            gateway
                .answer_now(request(method, path, Some(&cookie), body))
                .map(|response| response.status())
                .map_err(|request| request.method().clone())
        };
        assert_eq!(at_once(Method::GET, "/session", ""), Ok(StatusCode::OK));
        assert_eq!(
            at_once(Method::GET, "/session/keys/a", ""),
            Ok(StatusCode::OK)
        );
        assert_eq!(at_once(Method::POST, "/auth", ""), Ok(StatusCode::OK));
        assert_eq!(
            at_once(Method::GET, "/nowhere", ""),
            Ok(StatusCode::NOT_FOUND)
        );
        assert_eq!(
            at_once(Method::HEAD, "/session", ""),
            Ok(StatusCode::METHOD_NOT_ALLOWED)
        );
        // Changes wait to be durable; bodies wait to be read.
        assert_eq!(at_once(Method::DELETE, "/session", ""), Err(Method::DELETE));
        assert_eq!(at_once(Method::PATCH, "/session", "{}"), Err(Method::PATCH));
        assert_eq!(at_once(Method::GET, "/session", "x"), Err(Method::GET));
        let mut declared = request(Method::GET, "/session", Some(&cookie), "");
        declared
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from_static("5"));
        assert!(gateway.answer_now(declared).is_err());
    }

    #[tokio::test]
    async fn a_body_the_handler_did_not_need_that_cannot_be_read_closes_the_connection() {
        let (gateway, _) = gateway();
        let mut req = request(Method::GET, "/nowhere", None, "");
        req.headers_mut().insert(
            header::CONTENT_LENGTH,
            HeaderValue::from_static("999999999"),
        );
        let answer = gateway.handle(req).await;
        assert_eq!(answer.status(), StatusCode::NOT_FOUND);
        assert_eq!(answer.headers()[header::CONNECTION], "close");
    }
}

/// The gateway's parsers, reachable from the cargo-fuzz targets (`fuzz/`):
/// the Cookie header, request bodies, and the merge patch the gateway
/// parses (the domain's, which storage applies). Not an API.
#[doc(hidden)]
pub mod fuzzing {
    pub use super::body::data_object;
    pub use super::cookie::{presented, Presented};
    pub use crate::session::{merge, MergePatch};
}
