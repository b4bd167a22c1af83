//! The real `sessiond` binary under SIGTERM: readiness goes 503 first,
//! requests are still served during the drain delay, then it exits 0.

mod common;

use std::time::Duration;

use common::process::{signal, start_sessiond};
use common::{eventually, http_get};
use sessiond::grpc::pb;
use sessiond::grpc::pb::session_service_client::SessionServiceClient;

fn create() -> pb::CreateRequest {
    pb::CreateRequest {
        data: Default::default(),
        idle_timeout: None,
        user: None,
    }
}

#[tokio::test]
async fn sigterm_flips_readiness_serves_through_the_drain_delay_then_exits_0() {
    let mut sessiond = start_sessiond(["--drain-delay", "2s"]).await;
    let admin = sessiond.admin_addr;
    assert_eq!(http_get(admin, "/readyz").await.unwrap().status, 200);
    let mut client = SessionServiceClient::connect(format!("http://{}", sessiond.grpc_addr))
        .await
        .unwrap();
    client.create(create()).await.unwrap();

    signal(&sessiond.child, "TERM");

    assert!(
        eventually(|| async {
            http_get(admin, "/readyz")
                .await
                .is_ok_and(|r| r.status == 503)
        })
        .await,
        "readiness never went 503 during the drain delay"
    );
    client
        .create(create())
        .await
        .expect("served during the drain delay");
    let status = tokio::time::timeout(Duration::from_secs(20), sessiond.child.wait())
        .await
        .expect("exits after the drain delay")
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(http_get(admin, "/healthz").await.is_err());
}

#[tokio::test]
async fn with_no_drain_delay_sigterm_exits_0_at_once() {
    let mut sessiond = start_sessiond(["--drain-delay", "0s"]).await;
    assert_eq!(
        http_get(sessiond.admin_addr, "/healthz")
            .await
            .unwrap()
            .status,
        200
    );
    signal(&sessiond.child, "TERM");
    let status = tokio::time::timeout(Duration::from_secs(10), sessiond.child.wait())
        .await
        .expect("exits promptly")
        .unwrap();
    assert_eq!(status.code(), Some(0));
}
