//! The `sessiond` binary with `--backend redis`: what only a process shows,
//! its exit on a conflicting flag and its logs.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::redis_server::RedisServer;
use common::{eventually, http_get};
use sessiond::grpc::pb;
use sessiond::grpc::pb::session_service_client::SessionServiceClient;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;

#[test]
fn with_redis_a_durability_flag_refuses_to_start_naming_it() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sessiond"))
        .args(["--backend", "redis", "--data-dir", "/var/lib/sessiond"])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--data-dir does not apply with --backend redis"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "one clear line: {stderr}");
}

/// A `sessiond --backend redis` child, serving, and its logs so far.
struct Sessiond {
    child: tokio::process::Child,
    grpc: String,
    admin: std::net::SocketAddr,
    stderr: BufReader<tokio::process::ChildStderr>,
    logs: String,
}

/// Starts the binary on Redis with `args`, ephemeral loopback listeners
/// and JSON logs, and reads its log until it says it is serving.
async fn start(args: &[&str]) -> Sessiond {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sessiond"))
        .args(["--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"])
        .args(["--admin-addr", "127.0.0.1:0", "--log-format", "json"])
        .args(["--drain-delay", "0s", "--backend", "redis"])
        .args(args)
        .env_clear()
        .env("RUST_LOG", "debug")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut logs = String::new();
    let (grpc, admin) = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).await.unwrap() > 0,
            "exited: {logs}"
        );
        logs.push_str(&line);
        let event: serde_json::Value = serde_json::from_str(&line).unwrap();
        if event["message"] == "sessiond serving" {
            let addr = |f: &str| event[f].as_str().unwrap().to_owned();
            break (addr("grpc_addr"), addr("admin_addr"));
        }
    };
    Sessiond {
        child,
        grpc,
        admin: admin.parse().unwrap(),
        stderr,
        logs,
    }
}

/// Two sessiond processes on one Redis: a session created by one is read,
/// changed and flushed by the other.
#[tokio::test]
async fn two_sessiond_processes_on_one_redis_share_sessions() {
    let server = RedisServer::start();
    let url = server.url();
    let a = start(&["--redis-url", &url]).await;
    let b = start(&["--redis-url", &url]).await;
    let mut to_a = SessionServiceClient::connect(format!("http://{}", a.grpc))
        .await
        .unwrap();
    let mut to_b = SessionServiceClient::connect(format!("http://{}", b.grpc))
        .await
        .unwrap();
    let create = pb::CreateRequest {
        data: [("user".to_string(), "\"yuan\"".to_string())].into(),
        idle_timeout: None,
        user: None,
    };
    let id = to_a
        .create(create)
        .await
        .unwrap()
        .into_inner()
        .session
        .unwrap()
        .id;
    let get = |id: &str| pb::GetRequest {
        id: id.into(),
        keys: vec![],
        no_touch: false,
    };
    let read = to_b.get(get(&id)).await.unwrap().into_inner();
    assert_eq!(read.data["user"], "\"yuan\"");
    let set = pb::SetRequest {
        id: id.clone(),
        upsert: [("cart".to_string(), "[1]".to_string())].into(),
        remove: vec![],
        expected_version: Some(1),
        ..Default::default()
    };
    let changed = to_b.set(set).await.unwrap().into_inner();
    assert_eq!(changed.session.unwrap().version, 2);
    assert_eq!(
        to_a.get(get(&id)).await.unwrap().into_inner().data["cart"],
        "[1]"
    );
    let flushed = to_b
        .flush(pb::FlushRequest { id: id.clone() })
        .await
        .unwrap();
    assert!(flushed.into_inner().existed);
    let gone = to_a.get(get(&id)).await.unwrap_err();
    assert_eq!(gone.code(), tonic::Code::NotFound);
}

/// The password is in the URL on the command line (and the right one in
/// the password file): sessiond connects with it, Redis goes away so that
/// errors are logged, and no log line ever holds either.
#[tokio::test]
async fn the_redis_password_never_reaches_the_logs() {
    let mut server = RedisServer::start_with(&["--requirepass", "filesecret"]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("password");
    std::fs::write(&file, "filesecret\n").unwrap();
    let url = format!("redis://:urlsecret@127.0.0.1:{}", server.port);
    let file_arg = file.to_str().unwrap().to_owned();
    let args = [
        "--redis-url",
        &url,
        "--redis-timeout",
        "300ms",
        "--redis-password-file",
        &file_arg,
    ];
    let Sessiond {
        mut child,
        grpc,
        admin,
        mut stderr,
        mut logs,
    } = start(&args).await;
    let ready = eventually(|| async move {
        http_get(admin, "/readyz")
            .await
            .is_ok_and(|r| r.status == 200)
    });
    assert!(ready.await, "authenticated with the file's password");
    let mut client = SessionServiceClient::connect(format!("http://{grpc}"))
        .await
        .unwrap();
    let created = client.create(pb::CreateRequest::default()).await.unwrap();
    assert!(created.into_inner().session.is_some());

    server.kill();
    let failed = client.create(pb::CreateRequest::default()).await;
    assert_eq!(failed.unwrap_err().code(), tonic::Code::Unavailable);
    let down = eventually(|| async move {
        http_get(admin, "/readyz")
            .await
            .is_ok_and(|r| r.status == 503)
    });
    assert!(down.await);
    common::process::signal(&child, "TERM");
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;
    assert!(status.unwrap().unwrap().success());
    stderr.read_to_string(&mut logs).await.unwrap();
    assert!(
        logs.contains("redis"),
        "the logs say where sessions are: {logs}"
    );
    assert!(
        !logs.contains("urlsecret") && !logs.contains("filesecret"),
        "{logs}"
    );
}
