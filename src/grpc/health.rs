//! `grpc.health.v1.Health` that follows the process lifecycle, and server
//! reflection (v1 and v1alpha), so grpcurl, grpc_health_probe, Kubernetes
//! gRPC probes and the older reflection clients work unmodified.

use tonic_health::pb::health_server::{Health, HealthServer};
use tonic_health::server::HealthReporter;
use tonic_health::ServingStatus;
use tonic_reflection::server::{v1, v1alpha, Builder};

use super::pb;
use super::server_pb::session_service_server::SessionServiceServer;
use super::SessionService;
use crate::lifecycle::Lifecycle;

/// The health service, reporting NOT_SERVING while starting or draining, or
/// while the storage backend cannot be reached, and SERVING otherwise, both
/// for the whole server ("") and for `sessiond.v1.SessionService`.
pub fn health_service(lifecycle: &Lifecycle) -> HealthServer<impl Health> {
    let (reporter, service) = tonic_health::server::health_reporter();
    let mut phases = lifecycle.subscribe();
    let lifecycle = lifecycle.clone();
    tokio::spawn(async move {
        loop {
            phases.borrow_and_update();
            let status = match lifecycle.is_ready() {
                true => ServingStatus::Serving,
                false => ServingStatus::NotServing,
            };
            report(&reporter, status).await;
            if phases.changed().await.is_err() {
                break;
            }
        }
    });
    service
}

async fn report(reporter: &HealthReporter, status: ServingStatus) {
    reporter.set_service_status("", status).await;
    match status {
        ServingStatus::Serving => {
            reporter
                .set_serving::<SessionServiceServer<SessionService>>()
                .await
        }
        _ => {
            reporter
                .set_not_serving::<SessionServiceServer<SessionService>>()
                .await
        }
    }
}

/// Server reflection in both versions tools speak, each listing the session
/// and health services: `grpc.reflection.v1` (grpcurl, grpc-go's clients)
/// and `grpc.reflection.v1alpha` (grpcio-reflection, Postman, Evans, older
/// grpcurl), served side by side as grpc-go does.
#[allow(clippy::type_complexity)]
pub fn reflection_services() -> Result<
    (
        v1::ServerReflectionServer<impl v1::ServerReflection>,
        v1alpha::ServerReflectionServer<impl v1alpha::ServerReflection>,
    ),
    tonic_reflection::server::Error,
> {
    let builder = || {
        Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    Ok((builder().build_v1()?, builder().build_v1alpha()?))
}
