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

use crate::grpc::empty_pb;

struct Empty;

#[tonic::async_trait]
impl empty_pb::empty_service_server::EmptyService for Empty {
    async fn call(&self, _: Request<empty_pb::Empty>) -> Result<Response<empty_pb::Empty>, Status> {
        Ok(Response::new(empty_pb::Empty {}))
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
        .add_service(empty_pb::empty_service_server::EmptyServiceServer::new(
            Empty,
        ))
        .serve_with_incoming_shutdown(grpc_incoming(listener), shutdown)
        .await
        .map_err(|e| e.to_string())
}

/// Answers every request with `200 hello` until SIGTERM or SIGINT.
pub async fn hello(addr: SocketAddr) -> Result<(), String> {
    let listener = bind(addr).await?;
    let shutdown = shutdown_signal().map_err(|e| e.to_string())?;
    let settings = ConnectionSettings::from_config(&Config::defaults());
    println!("serving hello-world on {addr}");
    serve_with(
        listener,
        settings,
        None,
        |_request| async { http::Response::new(Full::new(Bytes::from_static(b"hello"))) },
        shutdown,
    )
    .await
    .map_err(|e| e.to_string())
}
