//! The real `sessiond` binary as a child process: every listener on an
//! ephemeral loopback port, JSON logs, and the addresses it got read from
//! its "sessiond serving" log line. For tests of what only a process shows:
//! signals, exit codes, crashes.

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A running `sessiond` and where it listens.
pub struct Process {
    pub child: Child,
    pub grpc_addr: SocketAddr,
    pub http_addr: SocketAddr,
    pub admin_addr: SocketAddr,
}

/// Starts the binary with `args` on top of ephemeral loopback listeners and
/// JSON logs, and waits (bounded) until it says it is serving. The rest of
/// its stderr is drained in the background; the child dies with the test.
pub async fn start_sessiond<I, S>(args: I) -> Process
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut child = Command::new(env!("CARGO_BIN_EXE_sessiond"))
        .args(["--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"])
        .args(["--admin-addr", "127.0.0.1:0", "--log-format", "json"])
        .args(args)
        .env_clear()
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("sessiond starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let serving = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let event: serde_json::Value = serde_json::from_str(&line).expect("JSON log line");
            if event["message"] == "sessiond serving" {
                let addr = |field: &str| event[field].as_str().unwrap().parse().unwrap();
                return (addr("grpc_addr"), addr("http_addr"), addr("admin_addr"));
            }
        }
        panic!("sessiond exited before serving");
    };
    let (grpc_addr, http_addr, admin_addr) = tokio::time::timeout(Duration::from_secs(60), serving)
        .await
        .expect("sessiond logs that it is serving");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Process {
        child,
        grpc_addr,
        http_addr,
        admin_addr,
    }
}

/// Sends `signal` (`TERM`, `HUP`, ...) to a running child.
pub fn signal(child: &Child, signal: &str) {
    let pid = child.id().expect("still running").to_string();
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} {pid}");
}
