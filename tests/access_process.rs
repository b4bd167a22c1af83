//! Access control in the real `sessiond` binary: protected mode refuses a
//! public address without credentials, `hash-token` prints a tokens line,
//! and SIGHUP reloads the tokens file.

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use common::eventually;
use sessiond::grpc::pb;
use sessiond::grpc::pb::session_service_client::SessionServiceClient;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tonic::{Code, Request};

const BIN: &str = env!("CARGO_BIN_EXE_sessiond");

fn hash_token(namespace: &str, token: &str) -> String {
    let mut child = std::process::Command::new(BIN)
        .args(["hash-token", namespace])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{token}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn hash_token_prints_the_line_for_the_token_on_stdin() {
    let line = hash_token("shop", "abc");
    assert_eq!(
        line,
        "shop:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn without_credentials_a_public_address_refuses_to_start_with_one_clear_line() {
    let out = std::process::Command::new(BIN)
        .args(["--grpc-addr", "0.0.0.0:0", "--http-addr", "127.0.0.1:0"])
        .args(["--admin-addr", "127.0.0.1:0", "--drain-delay", "0s"])
        .env_remove("SESSIOND_TOKENS_FILE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    for named in ["--grpc-addr", "--tokens-file", "--insecure-no-auth"] {
        assert!(stderr.contains(named), "{named} in {stderr}");
    }
}

/// Starts the binary with a tokens file and returns it with its gRPC
/// address, from the JSON "sessiond serving" log line.
async fn start_with_tokens(tokens: &std::path::Path) -> (Child, SocketAddr) {
    let mut child = Command::new(BIN)
        .args(["--grpc-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"])
        .args(["--http-addr", "127.0.0.1:0", "--drain-delay", "0s"])
        .args(["--log-format", "json"])
        .arg("--tokens-file")
        .arg(tokens)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let event: serde_json::Value = serde_json::from_str(&line).unwrap();
            if event["message"] == "sessiond serving" {
                return event["grpc_addr"].as_str().unwrap().parse().unwrap();
            }
        }
        panic!("sessiond exited before serving");
    })
    .await
    .expect("sessiond serves");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, addr)
}

fn create(token: &str) -> Request<pb::CreateRequest> {
    let mut request = Request::new(pb::CreateRequest {
        data: Default::default(),
        idle_timeout: None,
    });
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

#[tokio::test]
async fn sighup_rereads_the_tokens_file_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens");
    std::fs::write(&path, hash_token("shop", "first")).unwrap();
    let (child, addr) = start_with_tokens(&path).await;
    let mut client = SessionServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap();
    client.create(create("first")).await.unwrap();

    std::fs::write(&path, hash_token("shop", "second")).unwrap();
    let pid = child.id().unwrap().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap();
    assert!(kill.success());

    assert!(
        eventually(|| {
            let mut client = client.clone();
            async move { client.create(create("second")).await.is_ok() }
        })
        .await,
        "the new token was never accepted"
    );
    let old = client.create(create("first")).await.unwrap_err();
    assert_eq!(old.code(), Code::Unauthenticated);
    drop(child);
}
