//! gRPC server reflection: on by default in both versions tools speak
//! (`grpc.reflection.v1` and `grpc.reflection.v1alpha`), each listing the
//! session and health services; both off with `--grpc-reflection false`.

mod common;

use std::net::SocketAddr;

use common::{spawn_app, spawn_app_with};
use tonic::transport::Channel;
use tonic::Code;
use tonic_reflection::pb::{v1, v1alpha};

async fn channel(addr: SocketAddr) -> Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// The services reflection v1 lists, or the status the call failed with.
async fn list_services(addr: SocketAddr) -> Result<Vec<String>, tonic::Status> {
    use v1::server_reflection_request::MessageRequest;
    use v1::server_reflection_response::MessageResponse;
    let mut client = v1::server_reflection_client::ServerReflectionClient::new(channel(addr).await);
    let request = v1::ServerReflectionRequest {
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

/// What a v1alpha client (grpcio-reflection, Postman, Evans, older grpcurl)
/// sends, one request per response on one stream.
async fn ask_v1alpha(
    addr: SocketAddr,
    requests: Vec<v1alpha::server_reflection_request::MessageRequest>,
) -> Result<Vec<v1alpha::server_reflection_response::MessageResponse>, tonic::Status> {
    let mut client =
        v1alpha::server_reflection_client::ServerReflectionClient::new(channel(addr).await);
    let count = requests.len();
    let requests = requests
        .into_iter()
        .map(|message| v1alpha::ServerReflectionRequest {
            host: String::new(),
            message_request: Some(message),
        });
    let mut responses = client
        .server_reflection_info(tokio_stream::iter(requests))
        .await?
        .into_inner();
    let mut answers = Vec::new();
    for _ in 0..count {
        let response = responses.message().await?.expect("a response per request");
        answers.push(
            response
                .message_response
                .expect("a message in the response"),
        );
    }
    Ok(answers)
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
    let app = spawn_app_with(|c| c.listeners.grpc_reflection = false).await;
    let err = list_services(app.grpc_addr).await.unwrap_err();
    assert_eq!(err.code(), Code::Unimplemented, "{err}");
}

#[tokio::test]
async fn a_v1alpha_reflection_client_lists_the_session_and_health_services() {
    use v1alpha::server_reflection_request::MessageRequest;
    use v1alpha::server_reflection_response::MessageResponse;
    let app = spawn_app().await;

    let answers = ask_v1alpha(
        app.grpc_addr,
        vec![MessageRequest::ListServices(String::new())],
    )
    .await
    .unwrap();

    let services: Vec<String> = match &answers[..] {
        [MessageResponse::ListServicesResponse(list)] => {
            list.service.iter().map(|s| s.name.clone()).collect()
        }
        other => panic!("unexpected reflection response: {other:?}"),
    };
    for expected in ["sessiond.v1.SessionService", "grpc.health.v1.Health"] {
        assert!(services.contains(&expected.to_string()), "{services:?}");
    }
}

#[tokio::test]
async fn a_v1alpha_reflection_client_gets_the_session_service_descriptor() {
    use prost::Message;
    use v1alpha::server_reflection_request::MessageRequest;
    use v1alpha::server_reflection_response::MessageResponse;
    let app = spawn_app().await;

    let answers = ask_v1alpha(
        app.grpc_addr,
        vec![MessageRequest::FileContainingSymbol(
            "sessiond.v1.SessionService".to_string(),
        )],
    )
    .await
    .unwrap();

    let files = match &answers[..] {
        [MessageResponse::FileDescriptorResponse(files)] => &files.file_descriptor_proto,
        other => panic!("unexpected reflection response: {other:?}"),
    };
    let methods: Vec<String> = files
        .iter()
        .map(|bytes| prost_types::FileDescriptorProto::decode(&bytes[..]).unwrap())
        .filter(|file| file.package() == "sessiond.v1")
        .flat_map(|file| file.service)
        .filter(|service| service.name() == "SessionService")
        .flat_map(|service| service.method)
        .map(|method| method.name().to_string())
        .collect();
    for rpc in ["Create", "Get", "Set", "Flush", "Rotate", "Touch"] {
        assert!(methods.contains(&rpc.to_string()), "{methods:?}");
    }
}

#[tokio::test]
async fn v1alpha_reflection_is_absent_when_turned_off() {
    use v1alpha::server_reflection_request::MessageRequest;
    let app = spawn_app_with(|c| c.listeners.grpc_reflection = false).await;

    let err = ask_v1alpha(
        app.grpc_addr,
        vec![MessageRequest::ListServices(String::new())],
    )
    .await
    .unwrap_err();

    assert_eq!(err.code(), Code::Unimplemented, "{err}");
}
