//! The real binary, killed: `kill -9` mid-stream loses nothing acknowledged
//! more than one fsync interval before the kill (nothing at all with
//! `--fsync always`), and SIGTERM leaves a final snapshot and exits 0.

mod common;

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use common::process::{signal, start_sessiond};

use sessiond::grpc::pb::session_service_client::SessionServiceClient;
use sessiond::grpc::pb::{CreateRequest, GetRequest, SetRequest};
use tokio::process::Child;
use tonic::transport::Channel;

/// Starts `sessiond` with `dir` as its data dir, room for the stream of
/// keys, and no drain delay.
async fn start(dir: &Path, fsync: &str) -> (Child, SocketAddr) {
    let args = [
        OsStr::new("--fsync"),
        fsync.as_ref(),
        "--max-keys".as_ref(),
        "100000".as_ref(),
        "--max-session-bytes".as_ref(),
        "100000000".as_ref(),
        "--shutdown-grace".as_ref(),
        "5s".as_ref(),
        "--drain-delay".as_ref(),
        "0s".as_ref(),
        "--data-dir".as_ref(),
        dir.as_os_str(),
    ];
    let sessiond = start_sessiond(args).await;
    (sessiond.child, sessiond.grpc_addr)
}

async fn client(addr: SocketAddr) -> SessionServiceClient<Channel> {
    SessionServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap()
}

async fn create(client: &mut SessionServiceClient<Channel>) -> String {
    let req = CreateRequest {
        data: Default::default(),
        idle_timeout: None,
        user: None,
    };
    client
        .create(req)
        .await
        .unwrap()
        .into_inner()
        .session
        .unwrap()
        .id
}

/// Writes key `k<i>` for a while, then SIGKILLs the server; returns what was
/// acknowledged, with when, and when the kill happened.
async fn write_then_kill(
    mut server: Child,
    addr: SocketAddr,
    id: &str,
) -> (Vec<(u32, Instant)>, Instant) {
    let mut client = client(addr).await;
    let mut acked = Vec::new();
    let started = Instant::now();
    let mut i = 0u32;
    while started.elapsed() < Duration::from_millis(1500) {
        let req = SetRequest {
            id: id.to_string(),
            upsert: [(format!("k{i}"), i.to_string())].into(),
            remove: vec![],
            expected_version: None,
            ..Default::default()
        };
        client.set(req).await.unwrap();
        acked.push((i, Instant::now()));
        i += 1;
    }
    server.start_kill().unwrap(); // SIGKILL
    let killed = Instant::now();
    server.wait().await.unwrap();
    (acked, killed)
}

async fn stored_keys(addr: SocketAddr, id: &str) -> std::collections::HashMap<String, String> {
    let req = GetRequest {
        id: id.to_string(),
        keys: vec![],
        no_touch: true,
    };
    client(addr).await.get(req).await.unwrap().into_inner().data
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_with_everysec_keeps_what_was_acknowledged_a_second_before() {
    let dir = tempfile::tempdir().unwrap();
    let (server, addr) = start(dir.path(), "everysec").await;
    let id = create(&mut client(addr).await).await;
    let (acked, killed) = write_then_kill(server, addr, &id).await;
    assert!(acked.len() > 10, "the stream ran");

    let (mut server, addr) = start(dir.path(), "everysec").await;
    let stored = stored_keys(addr, &id).await;
    let must_survive = acked
        .iter()
        .filter(|(_, at)| *at + Duration::from_secs(1) <= killed);
    for (i, _) in must_survive {
        assert_eq!(
            stored.get(&format!("k{i}")),
            Some(&i.to_string()),
            "write {i} lost"
        );
    }
    for (key, value) in &stored {
        assert_eq!(key, &format!("k{value}"), "nothing corrupted");
    }
    server.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_with_fsync_always_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let (server, addr) = start(dir.path(), "always").await;
    let id = create(&mut client(addr).await).await;
    let (acked, _) = write_then_kill(server, addr, &id).await;

    let (mut server, addr) = start(dir.path(), "always").await;
    let stored = stored_keys(addr, &id).await;
    for (i, _) in &acked {
        assert_eq!(
            stored.get(&format!("k{i}")),
            Some(&i.to_string()),
            "write {i} lost"
        );
    }
    server.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_writes_a_final_snapshot_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, addr) = start(dir.path(), "no").await;
    let mut c = client(addr).await;
    let id = create(&mut c).await;
    let req = SetRequest {
        id: id.clone(),
        upsert: [("username".to_string(), "\"yuan\"".to_string())].into(),
        remove: vec![],
        expected_version: None,
        ..Default::default()
    };
    c.set(req).await.unwrap();
    drop(c);

    signal(&server, "TERM");
    let exit = tokio::time::timeout(Duration::from_secs(30), server.wait())
        .await
        .expect("exits after the final snapshot")
        .unwrap();
    assert_eq!(exit.code(), Some(0));
    assert!(dir.path().join("snapshot.bin").exists());

    let (mut server, addr) = start(dir.path(), "no").await;
    assert_eq!(stored_keys(addr, &id).await["username"], "\"yuan\"");
    server.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_with_fsync_always_keeps_every_acknowledged_binding_rebind_and_revoke() {
    use sessiond::grpc::pb::{
        BindUserRequest, ListUserSessionsRequest, RevokeSessionRequest, UserBinding,
    };
    let dir = tempfile::tempdir().unwrap();
    let (mut server, addr) = start(dir.path(), "always").await;
    let mut c = client(addr).await;
    let bind = |id: &str, user: &str| BindUserRequest {
        id: id.to_string(),
        user: Some(UserBinding {
            user_id: user.into(),
            user_agent: "curl/8".into(),
            ip: "10.0.0.1".into(),
        }),
    };
    let mut ids = Vec::new();
    for _ in 0..20 {
        let id = create(&mut c).await;
        c.bind_user(bind(&id, "yuan")).await.unwrap();
        ids.push(id);
    }
    // Moved to another user, and one revoked: both must survive the kill.
    c.bind_user(bind(&ids[0], "mei")).await.unwrap();
    let list = |user: &str| ListUserSessionsRequest {
        user_id: user.into(),
        current_id: String::new(),
    };
    let listed = c
        .list_user_sessions(list("yuan"))
        .await
        .unwrap()
        .into_inner();
    let revoke = RevokeSessionRequest {
        handle: listed.sessions[0].handle.clone(),
        user_id: String::new(),
    };
    c.revoke_session(revoke).await.unwrap();
    let mut before: Vec<String> = listed.sessions[1..]
        .iter()
        .map(|s| s.handle.clone())
        .collect();
    before.sort();

    server.start_kill().unwrap(); // SIGKILL
    server.wait().await.unwrap();
    let (mut server, addr) = start(dir.path(), "always").await;
    let mut c = client(addr).await;
    assert_eq!(listed.sessions.len(), 19);
    let after = c
        .list_user_sessions(list("yuan"))
        .await
        .unwrap()
        .into_inner();
    let mut handles: Vec<String> = after.sessions.iter().map(|s| s.handle.clone()).collect();
    handles.sort();
    assert_eq!(handles, before);
    assert!(after
        .sessions
        .iter()
        .all(|s| s.user_agent == "curl/8" && s.ip == "10.0.0.1"));
    let mei = c
        .list_user_sessions(list("mei"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(mei.sessions.len(), 1);
    server.start_kill().unwrap();
    server.wait().await.unwrap();
}
