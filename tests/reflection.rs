//! gRPC server reflection: on by default, listing the session and health
//! services; off with `--grpc-reflection false`.

mod common;

use std::net::SocketAddr;

use common::{spawn_app, spawn_app_with};
use tonic::Code;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1::ServerReflectionRequest;

/// The services reflection lists, or the status the call failed with.
async fn list_services(addr: SocketAddr) -> Result<Vec<String>, tonic::Status> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await?
        .into_inner();
    let response = responses.message().await?.expect("one response");
    match response.message_response {
        Some(MessageResponse::ListServicesResponse(list)) => {
            Ok(list.service.into_iter().map(|s| s.name).collect())
        }
        other => panic!("unexpected reflection response: {other:?}"),
    }
}

#[tokio::test]
async fn reflection_lists_the_session_and_health_services() {
    let app = spawn_app().await;
    let services = list_services(app.grpc_addr).await.unwrap();
    assert!(
        services.contains(&"sessiond.v1.SessionService".to_string()),
        "{services:?}"
    );
    assert!(
        services.contains(&"grpc.health.v1.Health".to_string()),
        "{services:?}"
    );
}

#[tokio::test]
async fn reflection_is_absent_when_turned_off() {
    let app = spawn_app_with(|c| c.grpc_reflection = false).await;
    let err = list_services(app.grpc_addr).await.unwrap_err();
    assert_eq!(err.code(), Code::Unimplemented, "{err}");
}
