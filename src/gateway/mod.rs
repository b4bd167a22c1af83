//! The HTTP gateway: browser cookies in, sessions out. Calls the store in
//! process (never loops back through gRPC).
//!
//! - [`server`]: accepts connections (HTTP/1.1 keep-alive and h2c on one
//!   port, via hyper-util's auto builder) and drains them on shutdown.
//! - `routes`: the route table; `handlers`: one handler per route.
//! - `cookie`, `csrf`, `etag`, `merge_patch`, `auth`, `body`: one concern
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
mod merge_patch;
mod reply;
mod routes;
mod server;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode, Version};
use http_body_util::Full;
use hyper::body::Body;
use tracing::Instrument;

use crate::config::{normalize_origin, Config};
use crate::lifecycle::Lifecycle;
use crate::store::Store;
use auth::AuthHeader;
use cookie::CookiePolicy;
use handlers::Exchange;
use routes::Route;

pub use server::serve;

/// The gateway: a cheap `Clone` handle, one per connection.
#[derive(Clone)]
pub struct Gateway(Arc<Shared>);

/// What every request needs, fixed at start.
struct Shared {
    store: Store,
    /// Requests arriving while draining get 503.
    lifecycle: Lifecycle,
    cookie: CookiePolicy,
    /// Normalized (`scheme://host[:port]`) origins allowed besides our own.
    allowed_origins: Vec<String>,
    /// The keys `GET /auth` exports, with their header names.
    auth_headers: Vec<AuthHeader>,
    max_body_bytes: usize,
    /// For `hyper`'s head buffer: larger heads get 431.
    max_header_bytes: usize,
    /// Slow-client bound for a request's head and for its body.
    read_timeout: Duration,
}

impl Gateway {
    /// A gateway over `store` with the HTTP settings of `config` (already
    /// validated).
    pub fn new(store: Store, lifecycle: Lifecycle, config: &Config) -> Self {
        Gateway(Arc::new(Shared {
            store,
            lifecycle,
            cookie: CookiePolicy::from_config(config),
            allowed_origins: config
                .allowed_origins
                .iter()
                .filter_map(|o| normalize_origin(o))
                .collect(),
            auth_headers: auth::auth_headers(&config.auth_headers),
            max_body_bytes: config.max_body_bytes,
            max_header_bytes: config.max_header_bytes,
            read_timeout: config.http_read_timeout,
        }))
    }

    /// Answers one request. Never fails: every refusal is a response.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let started = Instant::now();
        let route = Route::parse(request.uri().path());
        let label = route.label();
        let method = request.method().clone();
        let span = tracing::info_span!(
            "http",
            method = %method,
            route = label,
            session = tracing::field::Empty,
        );
        let response = self.respond(route, request).instrument(span.clone()).await;
        let _entered = span.enter();
        observe(&method, label, response.status(), started.elapsed());
        response
    }

    async fn respond<B>(&self, route: Route, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let shared = &*self.0;
        let (parts, body) = request.into_parts();
        let mut exchange = Exchange::new(shared, &parts);
        let result = exchange.run(route, body).await;
        let now = shared.store.clock().now_ms();
        let mut response = reply::render(result, &exchange.cookie, &shared.cookie, now);
        if exchange.close && parts.version < Version::HTTP_2 {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// Every request passes here once, with its method, fixed route label,
/// final status and latency: the hook for request metrics.
fn observe(method: &Method, route: &'static str, status: StatusCode, latency: Duration) {
    tracing::debug!(
        %method,
        route,
        status = status.as_u16(),
        latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
        "http request"
    );
}
