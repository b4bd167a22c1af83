//! The baselines, served exactly as sessiond serves its APIs: the same
//! tonic server builder and TCP_NODELAY for the empty RPC, the same hyper
//! connection settings and accept loop for the hello-world.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::Full;
use sessiond::app::{grpc_incoming, grpc_server, shutdown_signal};
use sessiond::config::Config;
use sessiond::gateway::{serve_with, ConnectionSettings};
use tonic::{Request, Response, Status};

use crate::grpc::bench_pb;

struct Empty;

#[tonic::async_trait]
impl bench_pb::empty_service_server::EmptyService for Empty {
    async fn call(&self, _: Request<bench_pb::Empty>) -> Result<Response<bench_pb::Empty>, Status> {
        Ok(Response::new(bench_pb::Empty {}))
    }
}

async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, String> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot bind {addr}: {e}"))
}

/// Serves `bench.v1.EmptyService/Call` until SIGTERM or SIGINT.
pub async fn empty(addr: SocketAddr) -> Result<(), String> {
    let listener = bind(addr).await?;
    let shutdown = shutdown_signal().map_err(|e| e.to_string())?;
    println!("serving the empty RPC on {addr}");
    grpc_server()
        .add_service(bench_pb::empty_service_server::EmptyServiceServer::new(
            Empty,
        ))
        .serve_with_incoming_shutdown(grpc_incoming(listener), shutdown)
        .await
        .map_err(|e| e.to_string())
}

/// Answers every request with `200 hello` until SIGTERM or SIGINT; or,
/// with `gateway_response`, with what the gateway answers a `GET /session`
/// of a small session: the same status, headers and body, fixed.
pub async fn hello(addr: SocketAddr, gateway_response: bool) -> Result<(), String> {
    let listener = bind(addr).await?;
    let shutdown = shutdown_signal().map_err(|e| e.to_string())?;
    let settings = ConnectionSettings::from_config(&Config::defaults());
    println!("serving hello-world on {addr}");
    serve_with(
        listener,
        settings,
        None,
        move |_request| async move {
            match gateway_response {
                true => like_gateway(),
                false => http::Response::new(Full::new(Bytes::from_static(b"hello"))),
            }
        },
        shutdown,
    )
    .await
    .map_err(|e| e.to_string())
}

/// A gateway `GET /session` response, byte for byte as sessiond writes one
/// for `{"user": "wrk"}` (`date` and `content-length` are hyper's).
fn like_gateway() -> http::Response<Full<Bytes>> {
    use http::header::{self, HeaderValue};
    let body = br#"{"data":{"user":"wrk"},"version":1,"expires_at":"2026-12-13T20:18:06.961Z"}"#;
    let mut response = http::Response::new(Full::new(Bytes::from_static(body)));
    let headers = response.headers_mut();
    headers.reserve(5);
    for (name, value) in [
        (header::CONTENT_TYPE, "application/json"),
        (header::CACHE_CONTROL, "no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::ETAG, "\"1\""),
        (
            header::SET_COOKIE,
            "sessionid=tcpjndbk6ue2qscvwdc5hpd63tf9x7wl; HttpOnly; SameSite=Lax; Path=/; Max-Age=1209600",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
