//! One way to start a real sessiond for a test: `spawn_app()`.
#![allow(dead_code)] // each test binary uses its own part of this helper

pub mod http_client;
pub mod process;
pub mod redis_server;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use sessiond::app::Application;
use sessiond::auth::Tokens;
use sessiond::clock::{Clock, Millis};
use sessiond::config::Config;
use sessiond::grpc::pb::session_service_client::SessionServiceClient;
use sessiond::lifecycle::Lifecycle;
use sessiond::storage::Storage;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

/// Where simulated time starts: 2023-11-14T22:13:20Z.
pub const T0: Millis = 1_700_000_000_000;

/// A running server on 127.0.0.1:0, on a manual clock, with a connected
/// gRPC client.
pub struct TestApp {
    pub grpc_addr: SocketAddr,
    /// The admin listener: /healthz, /readyz, /metrics.
    pub admin_addr: SocketAddr,
    /// The HTTP gateway.
    pub http_addr: SocketAddr,
    pub client: SessionServiceClient<Channel>,
    pub clock: Clock,
    pub store: Storage,
    pub lifecycle: Lifecycle,
    /// The tokens in force, when the test configured a tokens file.
    pub tokens: Option<Tokens>,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<io::Result<()>>,
}

/// Defaults for tests: every listener on an ephemeral loopback port.
pub fn test_config() -> Config {
    let mut config = Config::defaults();
    config.listeners.grpc_addr = "127.0.0.1:0".parse().unwrap();
    config.listeners.admin_addr = "127.0.0.1:0".parse().unwrap();
    config.listeners.drain_delay = Duration::ZERO;
    config.listeners.http_addr = "127.0.0.1:0".parse().unwrap();
    config.listeners.shutdown_grace = Duration::from_secs(5);
    config
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server whose configuration `configure` adjusts.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = test_config();
    configure(&mut config);
    config.validate().expect("test configuration is valid");
    let clock = Clock::manual(T0);
    let app = Application::build_with_clock(config, clock.clone())
        .await
        .expect("server binds");
    let grpc_addr = app.grpc_addr();
    let admin_addr = app.admin_addr();
    let http_addr = app.http_addr();
    let store = app.store();
    let lifecycle = app.lifecycle();
    let tokens = app.tokens();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    // Ready means recovered (with a data dir) and serving.
    let mut phases = lifecycle.subscribe();
    tokio::time::timeout(
        Duration::from_secs(30),
        phases.wait_for(|p| *p == sessiond::lifecycle::Phase::Serving),
    )
    .await
    .expect("the server becomes ready")
    .expect("the lifecycle lives as long as the server");
    let client = SessionServiceClient::connect(format!("http://{grpc_addr}"))
        .await
        .expect("client connects");
    TestApp {
        grpc_addr,
        admin_addr,
        http_addr,
        client,
        clock,
        store,
        lifecycle,
        tokens,
        stop: Some(stop),
        server,
    }
}

impl TestApp {
    /// Asks for shutdown without waiting for it, to look at the server while
    /// it drains.
    pub fn begin_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// An HTTP/1.1 client of the gateway.
    pub fn http(&self) -> http_client::Http {
        http_client::Http::new(self.http_addr)
    }

    /// Signals shutdown and waits for the server to finish draining.
    pub async fn stop(mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.server).await.expect("server task did not panic")
    }
}

/// Starts a server whose tokens file holds `tokens`: (namespace, token,
/// read-only) each. The directory holding the file lives as long as the
/// returned guard.
pub async fn spawn_app_with_tokens(tokens: &[(&str, &str, bool)]) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens");
    let lines: Vec<String> = tokens
        .iter()
        .map(|(ns, token, read_only)| {
            let ns = sessiond::session::Namespace::parse(ns).unwrap();
            sessiond::auth::hash_token_line(&ns, token, *read_only)
        })
        .collect();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let app = spawn_app_with(|config| config.access.tokens_file = Some(path)).await;
    (app, dir)
}

/// What an HTTP/1.1 GET got back.
pub struct HttpResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
}

/// One HTTP/1.1 GET of `path` on `addr`, on a fresh connection, bounded to
/// a few seconds.
pub async fn http_get(addr: SocketAddr, path: &str) -> io::Result<HttpResponse> {
    use http_body_util::{BodyExt, Empty};
    use hyper::body::Bytes;
    use hyper_util::rt::TokioIo;

    let exchange = async {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(io::Error::other)?;
        tokio::spawn(connection);
        let request = hyper::Request::get(path)
            .header(hyper::header::HOST, addr.to_string())
            .body(Empty::<Bytes>::new())
            .map_err(io::Error::other)?;
        let response = sender
            .send_request(request)
            .await
            .map_err(io::Error::other)?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(hyper::header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or_default().to_string());
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(io::Error::other)?
            .to_bytes();
        Ok(HttpResponse {
            status,
            content_type,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    };
    tokio::time::timeout(Duration::from_secs(5), exchange)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no HTTP answer within 5s"))?
}

/// A server on the Redis at `url` (`--backend redis`, a 500 ms call
/// timeout), configured further by `configure`, once it is ready.
pub async fn spawn_app_on_redis(url: String, configure: impl FnOnce(&mut Config)) -> TestApp {
    let app = spawn_app_with(move |c| {
        c.storage.backend = sessiond::config::BackendKind::Redis;
        c.storage.redis_url = sessiond::config::RedisUrl(url);
        c.storage.redis_timeout = Duration::from_millis(500);
        configure(c);
    })
    .await;
    assert!(becomes_ready(&app).await, "ready once Redis answers");
    app
}

/// Whether `/readyz` answers 200 within [`eventually`]'s wait: a server on
/// Redis is ready once Redis answers.
pub async fn becomes_ready(app: &TestApp) -> bool {
    let admin = app.admin_addr;
    eventually(|| async move {
        http_get(admin, "/readyz")
            .await
            .is_ok_and(|r| r.status == 200)
    })
    .await
}

/// Polls `condition` every 10 ms for up to 5 s of real time; true if it
/// held. For state that changes on another task (phase watchers).
pub async fn eventually<F, Fut>(mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while tokio::time::Instant::now() < deadline {
        if condition().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}
