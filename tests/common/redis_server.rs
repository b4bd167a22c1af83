//! Real Redis servers for tests: a standalone `redis-server`, or a 3-master
//! Cluster, each on free loopback ports in a temporary directory, stopped
//! when dropped.
//!
//! A missing `redis-server` fails the test that needs it (CI installs the
//! Debian package): nothing here skips. `REDIS_SERVER` and `REDIS_CLI`
//! name other binaries (Valkey's, say).
#![allow(dead_code)] // each test binary uses its own part of this helper

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn binary(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_owned())
}

/// A port free on 127.0.0.1 right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local addr").port()
}

/// One `redis-server` process.
pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
    extra: Vec<String>,
    /// Listens with TLS only (`--tls-port`).
    tls: bool,
}

impl RedisServer {
    /// A standalone server with no persistence.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// A standalone server started with extra `redis-server` arguments
    /// (`["--appendonly", "yes"]`).
    pub fn start_with(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut server = RedisServer {
            port: free_port(),
            child: None,
            dir,
            extra: extra.iter().map(|s| s.to_string()).collect(),
            tls: false,
        };
        server.spawn();
        server
    }

    /// A standalone server that speaks TLS only, with this certificate and
    /// key (PEM files), not asking clients for one.
    pub fn start_tls(cert: &Path, key: &Path) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let mut server = RedisServer {
            port,
            child: None,
            dir,
            extra: vec![
                "--port".into(),
                "0".into(),
                "--tls-port".into(),
                port.to_string(),
                "--tls-cert-file".into(),
                cert.display().to_string(),
                "--tls-key-file".into(),
                key.display().to_string(),
                "--tls-auth-clients".into(),
                "no".into(),
            ],
            tls: true,
        };
        server.spawn();
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn spawn(&mut self) {
        let exe = binary("REDIS_SERVER", "redis-server");
        let port = self.port.to_string();
        let mut args: Vec<String> = [
            "--port",
            &port,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "no",
            "--loglevel",
            "warning",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(self.extra.iter().cloned());
        let child = Command::new(&exe)
            .args(&args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {exe:?} ({e}): the Redis tests need redis-server \
                     (apt-get install redis-server, or set REDIS_SERVER)"
                )
            });
        self.child = Some(child);
        match self.tls {
            false => wait_for_ping(self.port),
            true => {
                let started = Instant::now();
                while !cli_tls(self.port, &["ping"]).starts_with("PONG") {
                    assert!(started.elapsed() < Duration::from_secs(10), "no TLS PING");
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
    }

    /// Kills the server (SIGKILL: no shutdown save), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and directory (and so with
    /// whatever it persisted there).
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Runs `redis-cli` against this server and answers its output.
    pub fn cli(&self, args: &[&str]) -> String {
        cli(self.port, args)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs `redis-cli -p port args...`.
pub fn cli(port: u16, args: &[&str]) -> String {
    let exe = binary("REDIS_CLI", "redis-cli");
    let out = Command::new(&exe)
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {exe:?} ({e}): apt-get install redis-server"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `redis-cli --tls --insecure -p port args...`.
fn cli_tls(port: u16, args: &[&str]) -> String {
    let exe = binary("REDIS_CLI", "redis-cli");
    let out = Command::new(&exe)
        .args([
            "--tls",
            "--insecure",
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {exe:?} ({e}): apt-get install redis-server"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits until a server on `port` answers PING (or asks for a password),
/// or panics after 10 s.
fn wait_for_ping(port: u16) {
    let started = Instant::now();
    loop {
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
            if stream.write_all(b"PING\r\n").is_ok() {
                let mut buf = [0u8; 16];
                if let Ok(n) = stream.read(&mut buf) {
                    // A server with requirepass is up too, if locked.
                    if buf[..n].starts_with(b"+PONG") || buf[..n].starts_with(b"-NOAUTH") {
                        return;
                    }
                }
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "redis-server on port {port} did not answer PING within 10 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A Redis Cluster of three masters (no replicas) on loopback.
pub struct RedisCluster {
    pub nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Three masters, no replicas.
    pub fn start() -> Self {
        Self::start_with_replicas(0)
    }

    /// Three masters with `replicas` replicas each (`nodes[0..3]` are the
    /// masters when the cluster is made).
    pub fn start_with_replicas(replicas: usize) -> Self {
        let nodes: Vec<RedisServer> = (0..3 * (1 + replicas))
            .map(|_| {
                RedisServer::start_with(&[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--cluster-node-timeout",
                    "2000",
                ])
            })
            .collect();
        let addrs: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let mut args: Vec<&str> = vec!["--cluster", "create"];
        args.extend(addrs.iter().map(String::as_str));
        let replicas = replicas.to_string();
        args.extend(["--cluster-replicas", &replicas, "--cluster-yes"]);
        let exe = binary("REDIS_CLI", "redis-cli");
        let out = Command::new(&exe)
            .args(&args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {exe:?} ({e}): apt-get install redis-server"));
        assert!(
            out.status.success(),
            "redis-cli --cluster create failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let started = Instant::now();
        for node in &nodes {
            while !node.cli(&["cluster", "info"]).contains("cluster_state:ok")
                || node.cli(&["cluster", "nodes"]).lines().count() < nodes.len()
            {
                assert!(
                    started.elapsed() < Duration::from_secs(20),
                    "the cluster did not become ok within 20 s"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        RedisCluster { nodes }
    }

    /// `host:port` of every node, as `--redis-cluster` takes them.
    pub fn seeds(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect()
    }

    /// The nodes that are masters now, by index.
    pub fn masters(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].child.is_some())
            .filter(|&i| self.nodes[i].cli(&["role"]).starts_with("master"))
            .collect()
    }

    /// Waits until every replica has every write its master acknowledged.
    pub fn wait_replicated(&self) {
        let started = Instant::now();
        for i in self.masters() {
            loop {
                let info = self.nodes[i].cli(&["info", "replication"]);
                let offset = field(&info, "master_repl_offset");
                let behind = info
                    .lines()
                    .filter(|l| l.starts_with("slave"))
                    .any(|l| !l.contains(&format!("offset={offset},")));
                if !behind {
                    break;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(20),
                    "replicas lag: {info}"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// The value of `name:` in an INFO answer.
fn field(info: &str, name: &str) -> String {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or("")
        .trim()
        .to_owned()
}
