//! Access control in the real `sessiond` binary: protected mode refuses a
//! public address without credentials, `hash-token` prints a tokens line,
//! and SIGHUP reloads the tokens file.

mod common;

use std::ffi::OsStr;
use std::io::Write;
use std::process::Stdio;

use common::eventually;
use common::process::{signal, start_sessiond};
use sessiond::grpc::pb;
use sessiond::grpc::pb::session_service_client::SessionServiceClient;
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

fn create(token: &str) -> Request<pb::CreateRequest> {
    let mut request = Request::new(pb::CreateRequest {
        data: Default::default(),
        idle_timeout: None,
        user: None,
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
    let sessiond = start_sessiond([
        OsStr::new("--drain-delay"),
        "0s".as_ref(),
        "--tokens-file".as_ref(),
        path.as_os_str(),
    ])
    .await;
    let mut client = SessionServiceClient::connect(format!("http://{}", sessiond.grpc_addr))
        .await
        .unwrap();
    client.create(create("first")).await.unwrap();

    std::fs::write(&path, hash_token("shop", "second")).unwrap();
    signal(&sessiond.child, "HUP");

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
    drop(sessiond);
}
