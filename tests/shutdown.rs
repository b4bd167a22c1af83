//! The real `sessiond` binary under SIGTERM: readiness goes 503 first,
//! requests are still served during the drain delay, then it exits 0.

mod common;

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use common::{eventually, http_get};
use sessiond::grpc::pb;
use sessiond::grpc::pb::session_service_client::SessionServiceClient;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStderr, Command};

/// A running `sessiond` with every listener on an ephemeral loopback port.
struct Process {
    child: Child,
    grpc_addr: SocketAddr,
    admin_addr: SocketAddr,
}

/// Starts the binary and learns its ports from the JSON "sessiond serving"
/// log line; the rest of its stderr is drained in the background.
async fn start(drain_delay: &str) -> Process {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sessiond"))
        .args(["--grpc-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"])
        .args(["--http-addr", "127.0.0.1:0"])
        .args(["--drain-delay", drain_delay, "--log-format", "json"])
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("sessiond starts");
    let stderr = child.stderr.take().unwrap();
    let (grpc_addr, admin_addr) = tokio::time::timeout(Duration::from_secs(20), serving(stderr))
        .await
        .expect("sessiond logs that it is serving");
    Process {
        child,
        grpc_addr,
        admin_addr,
    }
}

async fn serving(stderr: ChildStderr) -> (SocketAddr, SocketAddr) {
    let mut lines = BufReader::new(stderr).lines();
    while let Some(line) = lines.next_line().await.unwrap() {
        let event: serde_json::Value = serde_json::from_str(&line).expect("JSON log line");
        if event["message"] == "sessiond serving" {
            let addr = |field: &str| event[field].as_str().unwrap().parse().unwrap();
            let addrs = (addr("grpc_addr"), addr("admin_addr"));
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return addrs;
        }
    }
    panic!("sessiond exited before serving");
}

fn sigterm(child: &Child) {
    let pid = child.id().expect("still running").to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
}

fn create() -> pb::CreateRequest {
    pb::CreateRequest {
        data: Default::default(),
        idle_timeout: None,
    }
}

#[tokio::test]
async fn sigterm_flips_readiness_serves_through_the_drain_delay_then_exits_0() {
    let mut sessiond = start("2s").await;
    let admin = sessiond.admin_addr;
    assert_eq!(http_get(admin, "/readyz").await.unwrap().status, 200);
    let mut client = SessionServiceClient::connect(format!("http://{}", sessiond.grpc_addr))
        .await
        .unwrap();
    client.create(create()).await.unwrap();

    sigterm(&sessiond.child);

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
    let mut sessiond = start("0s").await;
    assert_eq!(
        http_get(sessiond.admin_addr, "/healthz")
            .await
            .unwrap()
            .status,
        200
    );
    sigterm(&sessiond.child);
    let status = tokio::time::timeout(Duration::from_secs(10), sessiond.child.wait())
        .await
        .expect("exits promptly")
        .unwrap();
    assert_eq!(status.code(), Some(0));
}
