//! The real binary, killed: `kill -9` mid-stream loses nothing acknowledged
//! more than one fsync interval before the kill (nothing at all with
//! `--fsync always`), and SIGTERM leaves a final snapshot and exits 0.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sessiond::grpc::pb::session_service_client::SessionServiceClient;
use sessiond::grpc::pb::{CreateRequest, GetRequest, SetRequest};
use tonic::transport::Channel;

/// Starts `sessiond` on a free loopback port with `dir` as its data dir and
/// returns it with the gRPC address it logged.
fn start(dir: &Path, fsync: &str) -> (Child, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sessiond"))
        .args([
            "--grpc-addr",
            "127.0.0.1:0",
            "--fsync",
            fsync,
            "--max-keys",
            "100000",
        ])
        .args(["--max-session-bytes", "100000000", "--shutdown-grace", "5s"])
        .args([
            "--admin-addr",
            "127.0.0.1:0",
            "--http-addr",
            "127.0.0.1:0",
            "--drain-delay",
            "0s",
        ])
        .arg("--data-dir")
        .arg(dir)
        .env_clear()
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sessiond starts");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("grpc_addr=").nth(1) {
                let addr = rest.split_whitespace().next().unwrap_or_default();
                let _ = tx.send(addr.trim_matches('"').to_string());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("sessiond logs its address");
    (child, addr.parse().unwrap())
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
        };
        client.set(req).await.unwrap();
        acked.push((i, Instant::now()));
        i += 1;
    }
    server.kill().unwrap(); // SIGKILL
    let killed = Instant::now();
    server.wait().unwrap();
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
    let (server, addr) = start(dir.path(), "everysec");
    let id = create(&mut client(addr).await).await;
    let (acked, killed) = write_then_kill(server, addr, &id).await;
    assert!(acked.len() > 10, "the stream ran");

    let (mut server, addr) = start(dir.path(), "everysec");
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
    server.kill().unwrap();
    server.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_with_fsync_always_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let (server, addr) = start(dir.path(), "always");
    let id = create(&mut client(addr).await).await;
    let (acked, _) = write_then_kill(server, addr, &id).await;

    let (mut server, addr) = start(dir.path(), "always");
    let stored = stored_keys(addr, &id).await;
    for (i, _) in &acked {
        assert_eq!(
            stored.get(&format!("k{i}")),
            Some(&i.to_string()),
            "write {i} lost"
        );
    }
    server.kill().unwrap();
    server.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_writes_a_final_snapshot_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, addr) = start(dir.path(), "no");
    let mut c = client(addr).await;
    let id = create(&mut c).await;
    let req = SetRequest {
        id: id.clone(),
        upsert: [("username".to_string(), "\"yuan\"".to_string())].into(),
        remove: vec![],
        expected_version: None,
    };
    c.set(req).await.unwrap();
    drop(c);

    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = server.wait().unwrap();
    assert_eq!(exit.code(), Some(0));
    assert!(dir.path().join("snapshot.bin").exists());

    let (mut server, addr) = start(dir.path(), "no");
    assert_eq!(stored_keys(addr, &id).await["username"], "\"yuan\"");
    server.kill().unwrap();
    server.wait().unwrap();
}
