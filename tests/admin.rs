//! The admin listener over a real socket: metrics that move with traffic and
//! parse as Prometheus text, health and readiness through a drain, the
//! `sessiond healthcheck` subcommand, and admin routes kept off the gRPC port.

mod common;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::time::Duration;

use common::{eventually, http_get, spawn_app, spawn_app_with, TestApp};
use sessiond::grpc::pb;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

/// Checks every line against the Prometheus text format (0.0.4) strictly,
/// then parses it; panics naming the first bad line.
fn parse_metrics(text: &str) -> prometheus_parse::Scrape {
    let mut typed: HashMap<&str, &str> = HashMap::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(help) = line.strip_prefix("# HELP ") {
            let (name, doc) = help.split_once(' ').expect(line);
            assert!(is_metric_name(name) && !doc.is_empty(), "bad HELP: {line}");
        } else if let Some(ty) = line.strip_prefix("# TYPE ") {
            let (name, kind) = ty.split_once(' ').expect(line);
            assert!(is_metric_name(name), "bad TYPE: {line}");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "bad TYPE: {line}"
            );
            assert!(typed.insert(name, kind).is_none(), "second TYPE: {line}");
        } else {
            assert!(!line.starts_with('#'), "stray comment: {line}");
            let (series, value) = line.rsplit_once(' ').expect(line);
            assert!(
                value.parse::<f64>().is_ok() || ["+Inf", "-Inf", "NaN"].contains(&value),
                "bad value: {line}"
            );
            let name = match series.split_once('{') {
                Some((name, labels)) => {
                    let labels = labels.strip_suffix('}').expect(line);
                    for pair in labels.split(',') {
                        let (label, quoted) = pair.split_once('=').expect(line);
                        assert!(is_metric_name(label) && !label.contains(':'), "{line}");
                        assert!(
                            quoted.len() >= 2 && quoted.starts_with('"') && quoted.ends_with('"'),
                            "bad label value: {line}"
                        );
                    }
                    name
                }
                None => series,
            };
            assert!(is_metric_name(name), "bad name: {line}");
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| {
                    name.strip_suffix(s)
                        .filter(|f| typed.get(f) == Some(&"histogram"))
                })
                .unwrap_or(name);
            assert!(typed.contains_key(family), "sample before its TYPE: {line}");
        }
    }
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap()
}

fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// The value of the sample named `metric` whose labels include `labels`;
/// 0 when there is none yet (a counter never incremented is not shown).
fn value(scrape: &prometheus_parse::Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<f64> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => *v,
            other => panic!("{metric} is not a number: {other:?}"),
        })
        .collect();
    assert!(found.len() <= 1, "{metric} {labels:?} is ambiguous");
    found.first().copied().unwrap_or(0.0)
}

async fn scrape(app: &TestApp) -> prometheus_parse::Scrape {
    let response = http_get(app.admin_addr, "/metrics").await.unwrap();
    assert_eq!(response.status, 200);
    assert!(
        response
            .content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("text/plain; version=0.0.4")),
        "{:?}",
        response.content_type
    );
    parse_metrics(&response.body)
}

fn requests(scrape: &prometheus_parse::Scrape, method: &str, outcome: &str) -> f64 {
    value(
        scrape,
        "sessiond_requests_total",
        &[("api", "grpc"), ("method", method), ("outcome", outcome)],
    )
}

fn create() -> pb::CreateRequest {
    pb::CreateRequest {
        data: HashMap::from([("username".to_string(), "\"yuan\"".to_string())]),
        idle_timeout: None,
        user: None,
    }
}

#[tokio::test]
async fn counters_and_gauges_move_as_requests_happen() {
    let mut app = spawn_app_with(|c| c.sessions.max_sessions = 2).await;
    let before = scrape(&app).await;
    assert_eq!(value(&before, "sessiond_sessions", &[]), 0.0);
    assert_eq!(value(&before, "sessiond_max_sessions", &[]), 2.0);
    assert_eq!(requests(&before, "Create", "OK"), 0.0);

    let mut ids = Vec::new();
    for _ in 0..2 {
        let session = app.client.create(create()).await.unwrap().into_inner();
        ids.push(session.session.unwrap().id);
    }
    let full = app.client.create(create()).await.unwrap_err();
    assert_eq!(full.code(), Code::ResourceExhausted);
    let malformed = pb::GetRequest {
        id: "not-an-id".into(),
        keys: vec![],
        no_touch: false,
    };
    assert_eq!(
        app.client.get(malformed).await.unwrap_err().code(),
        Code::InvalidArgument
    );
    app.client
        .rotate(pb::RotateRequest { id: ids[0].clone() })
        .await
        .unwrap();
    app.client
        .flush(pb::FlushRequest { id: ids[1].clone() })
        .await
        .unwrap();

    let after = scrape(&app).await;
    assert!(after.docs.contains_key("sessiond_requests_total"));
    assert_eq!(requests(&after, "Create", "OK"), 2.0);
    assert_eq!(requests(&after, "Create", "RESOURCE_EXHAUSTED"), 1.0);
    assert_eq!(requests(&after, "Get", "INVALID_ARGUMENT"), 1.0);
    assert_eq!(requests(&after, "Rotate", "OK"), 1.0);
    assert_eq!(requests(&after, "Flush", "OK"), 1.0);
    let latency = [("api", "grpc"), ("method", "Create")];
    assert_eq!(
        value(&after, "sessiond_request_duration_seconds_count", &latency),
        3.0
    );
    assert!(value(&after, "sessiond_request_duration_seconds_sum", &latency) > 0.0);
    assert_eq!(value(&after, "sessiond_sessions", &[]), 1.0);
    assert_eq!(
        value(&after, "sessiond_session_data_bytes", &[]),
        ("username".len() + "\"yuan\"".len()) as f64
    );
    assert_eq!(value(&after, "sessiond_sessions_created_total", &[]), 2.0);
    assert_eq!(value(&after, "sessiond_sessions_refused_total", &[]), 1.0);
    assert_eq!(value(&after, "sessiond_sessions_rotated_total", &[]), 1.0);
    assert_eq!(value(&after, "sessiond_sessions_flushed_total", &[]), 1.0);
    assert_eq!(value(&after, "sessiond_sessions_expired_total", &[]), 0.0);
}

#[tokio::test]
async fn latency_is_a_histogram_per_api_and_method() {
    let mut app = spawn_app().await;
    app.client.create(create()).await.unwrap();
    let after = scrape(&app).await;
    let histogram = after
        .samples
        .iter()
        .find(|s| {
            s.metric == "sessiond_request_duration_seconds"
                && s.labels.get("method") == Some("Create")
        })
        .expect("a Create latency histogram");
    assert_eq!(histogram.labels.get("api"), Some("grpc"));
    let prometheus_parse::Value::Histogram(buckets) = &histogram.value else {
        panic!("not a histogram: {:?}", histogram.value);
    };
    assert!(buckets.len() >= 10);
    assert!(buckets.windows(2).all(|w| w[0].count <= w[1].count));
    assert_eq!(buckets.last().unwrap().count, 1.0);
}

#[tokio::test]
async fn process_figures_are_exported() {
    let app = spawn_app().await;
    let scrape = scrape(&app).await;
    assert!(value(&scrape, "process_resident_memory_bytes", &[]) > 1e6);
    assert!(value(&scrape, "process_open_fds", &[]) >= 3.0);
    assert!(value(&scrape, "process_max_fds", &[]) >= value(&scrape, "process_open_fds", &[]));
    let documented: HashSet<&str> = scrape.docs.keys().map(String::as_str).collect();
    for metric in [
        "process_cpu_seconds_total",
        "sessiond_sessions_created_total",
        "sessiond_sessions",
    ] {
        assert!(documented.contains(metric), "no HELP for {metric}");
    }
}

#[tokio::test]
async fn health_and_readiness_answer_and_unknown_paths_are_not_found() {
    let app = spawn_app().await;
    let healthz = http_get(app.admin_addr, "/healthz").await.unwrap();
    assert_eq!((healthz.status, healthz.body.as_str()), (200, "ok\n"));
    let readyz = http_get(app.admin_addr, "/readyz").await.unwrap();
    assert_eq!((readyz.status, readyz.body.as_str()), (200, "serving\n"));
    assert_eq!(http_get(app.admin_addr, "/").await.unwrap().status, 404);
    assert_eq!(
        http_get(app.admin_addr, "/session").await.unwrap().status,
        404
    );
}

async fn grpc_health(addr: SocketAddr, service: &str) -> ServingStatus {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel);
    let response = health
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await
        .unwrap();
    response.into_inner().status()
}

#[tokio::test]
async fn draining_flips_readiness_and_grpc_health_but_still_serves_requests() {
    let mut app = spawn_app_with(|c| c.listeners.drain_delay = Duration::from_secs(60)).await;
    assert_eq!(grpc_health(app.grpc_addr, "").await, ServingStatus::Serving);
    assert_eq!(
        grpc_health(app.grpc_addr, "sessiond.v1.SessionService").await,
        ServingStatus::Serving
    );

    app.begin_shutdown();

    let admin = app.admin_addr;
    assert!(
        eventually(|| async { http_get(admin, "/readyz").await.unwrap().status == 503 }).await,
        "readiness did not flip"
    );
    let readyz = http_get(admin, "/readyz").await.unwrap();
    assert_eq!(readyz.body, "draining\n");
    assert_eq!(http_get(admin, "/healthz").await.unwrap().status, 200);
    let grpc = app.grpc_addr;
    assert!(
        eventually(|| async { grpc_health(grpc, "").await == ServingStatus::NotServing }).await,
        "gRPC health did not flip"
    );
    assert_eq!(
        grpc_health(grpc, "sessiond.v1.SessionService").await,
        ServingStatus::NotServing
    );
    // Load balancers are still catching up: requests are served, not refused.
    let session = app.client.create(create()).await.unwrap().into_inner();
    assert_eq!(session.session.unwrap().id.len(), 32);
}

#[tokio::test]
async fn after_the_drain_delay_the_server_stops_and_the_admin_port_closes() {
    let app = spawn_app().await;
    let admin = app.admin_addr;
    assert_eq!(http_get(admin, "/readyz").await.unwrap().status, 200);
    tokio::time::timeout(Duration::from_secs(10), app.stop())
        .await
        .expect("stops within the grace period")
        .expect("stops cleanly");
    assert!(http_get(admin, "/readyz").await.is_err());
}

/// Runs `sessiond healthcheck` against `admin_addr` and returns its exit
/// code and stderr.
async fn healthcheck(admin_addr: SocketAddr) -> (i32, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_sessiond"))
        .args(["healthcheck", "--timeout", "3s"])
        .env("SESSIOND_ADMIN_ADDR", admin_addr.to_string())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(10), output)
        .await
        .expect("healthcheck finishes")
        .unwrap();
    assert!(output.stdout.is_empty());
    (
        output.status.code().expect("exited"),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_healthcheck_subcommand_exits_0_when_ready_and_1_when_draining() {
    let mut app = spawn_app_with(|c| c.listeners.drain_delay = Duration::from_secs(60)).await;
    assert_eq!(healthcheck(app.admin_addr).await, (0, String::new()));

    app.begin_shutdown();
    let admin = app.admin_addr;
    assert!(eventually(|| async { http_get(admin, "/readyz").await.unwrap().status == 503 }).await);
    let (code, stderr) = healthcheck(admin).await;
    assert_eq!(code, 1);
    assert!(stderr.contains("503"), "{stderr}");
}

#[tokio::test]
async fn the_healthcheck_subcommand_fails_against_a_closed_port() {
    let closed = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    };
    let (code, stderr) = healthcheck(closed).await;
    assert_eq!(code, 1);
    assert!(stderr.contains(&closed.to_string()), "{stderr}");
}

#[tokio::test]
async fn the_grpc_port_serves_no_admin_routes_over_http1() {
    let app = spawn_app().await;
    for path in ["/metrics", "/healthz", "/readyz"] {
        match http_get(app.grpc_addr, path).await {
            Err(_) => {}
            Ok(response) => {
                assert_ne!(response.status, 200, "{path} answered on the gRPC port");
                assert!(!response.body.contains("sessiond_"), "{path}");
            }
        }
    }
}

#[tokio::test]
async fn the_grpc_port_serves_no_admin_routes_over_http2() {
    use http_body_util::{BodyExt, Empty};
    use hyper::body::Bytes;
    use hyper_util::rt::{TokioExecutor, TokioIo};

    let app = spawn_app().await;
    let stream = tokio::net::TcpStream::connect(app.grpc_addr).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    for path in ["/metrics", "/healthz", "/readyz"] {
        let request = hyper::Request::get(format!("http://{}{path}", app.grpc_addr))
            .body(Empty::<Bytes>::new())
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        let content_type = response
            .headers()
            .get(hyper::header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_string());
        // tonic answers an unknown path with gRPC UNIMPLEMENTED.
        assert_eq!(
            response.headers().get("grpc-status").map(|v| v.as_bytes()),
            Some(&b"12"[..]),
            "{path}"
        );
        assert!(!content_type.is_some_and(|t| t.starts_with("text/plain")));
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert!(!String::from_utf8_lossy(&body).contains("sessiond_"));
    }
}

#[tokio::test]
async fn the_http_gateway_port_serves_no_admin_routes() {
    let app = spawn_app().await;
    for path in ["/metrics", "/healthz", "/readyz"] {
        let response = http_get(app.http_addr, path).await.unwrap();
        assert_eq!(response.status, 404, "{path} answered on the gateway port");
        assert!(!response.body.contains("sessiond_"), "{path}");
    }
}

#[tokio::test]
async fn gateway_requests_are_counted_by_method_route_and_status() {
    let app = spawn_app().await;
    let missing = http_get(app.http_addr, "/session").await.unwrap();
    assert_eq!(missing.status, 404);
    let scrape = scrape(&app).await;
    let counted = value(
        &scrape,
        "sessiond_requests_total",
        &[
            ("api", "http"),
            ("method", "GET /session"),
            ("outcome", "404"),
        ],
    );
    assert_eq!(counted, 1.0);
}

#[tokio::test]
async fn durability_figures_are_exported_with_a_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let mut app = spawn_app_with(move |c| c.durability.data_dir = Some(path)).await;
    app.client.create(create()).await.unwrap();
    let first = scrape(&app).await;
    assert!(
        value(&first, "sessiond_journal_bytes", &[]) > 0.0,
        "the journal file exists"
    );
    assert_eq!(value(&first, "sessiond_journal_records_replayed", &[]), 0.0);
    assert_eq!(
        value(&first, "sessiond_snapshot_last_timestamp_seconds", &[]),
        0.0
    );
    app.stop().await.unwrap();

    // The restart replays the final snapshot's one session.
    let path = dir.path().to_path_buf();
    let app = spawn_app_with(move |c| c.durability.data_dir = Some(path)).await;
    let second = scrape(&app).await;
    assert_eq!(
        value(&second, "sessiond_journal_records_replayed", &[]),
        1.0
    );
    assert_eq!(value(&second, "sessiond_sessions", &[]), 1.0);
}
