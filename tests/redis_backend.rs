//! sessiond on Redis (`--backend redis`), over real sockets and a real
//! `redis-server` started per test: every RPC and the gateway, two replicas
//! sharing one Redis, and Redis going away and coming back.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::http_client::{cookie, create as http_create, get_session, JSON};
use common::redis_server::RedisServer;
use common::{becomes_ready, eventually, http_get, spawn_app_on_redis, spawn_app_with, TestApp};
use http::{Method, StatusCode};
use serde_json::json;
use sessiond::config::{BackendKind, RedisUrl};
use sessiond::grpc::pb;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

async fn on_redis(server: &RedisServer) -> TestApp {
    spawn_app_on_redis(server.url(), |_| {}).await
}

fn data(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn create(app: &mut TestApp, pairs: &[(&str, &str)]) -> pb::SessionInfo {
    let request = pb::CreateRequest {
        data: data(pairs),
        idle_timeout: None,
        user: None,
    };
    let reply = app.client.create(request).await.unwrap().into_inner();
    reply.session.expect("Create answers the session")
}

fn get(id: &str) -> pb::GetRequest {
    pb::GetRequest {
        id: id.into(),
        keys: vec![],
        no_touch: false,
    }
}

fn set(id: &str, pairs: &[(&str, &str)], expected: Option<u64>) -> pb::SetRequest {
    pb::SetRequest {
        id: id.into(),
        upsert: data(pairs),
        remove: vec![],
        expected_version: expected,
        ..Default::default()
    }
}

async fn health(app: &TestApp) -> ServingStatus {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", app.grpc_addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let reply = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: "sessiond.v1.SessionService".into(),
        })
        .await
        .unwrap();
    reply.into_inner().status()
}

#[tokio::test]
async fn every_rpc_works_on_redis() {
    let server = RedisServer::start();
    let mut app = on_redis(&server).await;

    let created = create(&mut app, &[("user", "\"yuan\"")]).await;
    assert_eq!(
        server.cli(&["dbsize"]).trim(),
        "1",
        "the session is in Redis"
    );
    let got = app.client.get(get(&created.id)).await.unwrap().into_inner();
    assert_eq!(got.data, data(&[("user", "\"yuan\"")]));

    let stale = app
        .client
        .set(set(&created.id, &[("a", "1")], Some(7)))
        .await;
    assert_eq!(stale.unwrap_err().code(), Code::Aborted);
    let changed = app
        .client
        .set(set(&created.id, &[("a", "1")], Some(1)))
        .await;
    assert_eq!(changed.unwrap().into_inner().session.unwrap().version, 2);
    let bad = app.client.set(set(&created.id, &[("a", "{")], None)).await;
    assert_eq!(bad.unwrap_err().code(), Code::InvalidArgument);

    let touch = pb::TouchRequest {
        id: created.id.clone(),
        idle_timeout: Some(prost_types::Duration {
            seconds: 60,
            nanos: 0,
        }),
    };
    let touched = app.client.touch(touch).await.unwrap().into_inner();
    assert_eq!(touched.session.unwrap().idle_timeout.unwrap().seconds, 60);

    let rotate = pb::RotateRequest {
        id: created.id.clone(),
    };
    let rotated = app.client.rotate(rotate).await.unwrap().into_inner();
    let new_id = rotated.session.unwrap().id;
    let old = app.client.get(get(&created.id)).await;
    assert_eq!(old.unwrap_err().code(), Code::NotFound);
    let moved = app.client.get(get(&new_id)).await.unwrap().into_inner();
    assert_eq!(moved.data, data(&[("user", "\"yuan\""), ("a", "1")]));

    let flush = |id: &str| pb::FlushRequest { id: id.into() };
    assert!(
        app.client
            .flush(flush(&new_id))
            .await
            .unwrap()
            .into_inner()
            .existed
    );
    assert!(
        !app.client
            .flush(flush(&new_id))
            .await
            .unwrap()
            .into_inner()
            .existed
    );
    assert_eq!(server.cli(&["dbsize"]).trim(), "0");

    let metrics = http_get(app.admin_addr, "/metrics").await.unwrap().body;
    let calls = r#"sessiond_backend_calls_total{backend="redis",op="rotate",outcome="ok"} 3"#;
    assert!(metrics.contains(calls), "three calls a Rotate: {metrics}");
    assert!(
        metrics.contains(r#"sessiond_backend_duration_seconds_count{backend="redis",op="read"}"#)
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_gateway_works_on_redis() {
    let server = RedisServer::start();
    let app = on_redis(&server).await;
    let http = app.http();

    let login = http
        .send(
            Method::PATCH,
            "/session",
            &[("content-type", "application/merge-patch+json")],
            r#"{"username": "yuan", "cart": {"items": [1]}}"#,
        )
        .await;
    assert_eq!(login.status, StatusCode::CREATED, "{}", login.text());
    let id = login.issued("sessionid").expect("a cookie");

    let c = cookie(&id);
    let merged = http
        .send(
            Method::PATCH,
            "/session",
            &[
                ("content-type", "application/merge-patch+json"),
                ("cookie", &c),
            ],
            r#"{"cart": {"coupon": "X"}, "username": null}"#,
        )
        .await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.text());
    assert_eq!(
        merged.json()["data"],
        json!({"cart": {"items": [1], "coupon": "X"}})
    );
    let etag = merged.etag().expect("an ETag").to_owned();

    let key = http
        .send(
            Method::PUT,
            "/session/keys/theme",
            &[JSON, ("cookie", &c)],
            "\"dark\"",
        )
        .await;
    assert!(key.status.is_success(), "{}", key.text());
    let late = http
        .send(
            Method::PATCH,
            "/session",
            &[
                ("content-type", "application/merge-patch+json"),
                ("cookie", &c),
                ("if-match", &etag),
            ],
            r#"{"a": 1}"#,
        )
        .await;
    assert_eq!(late.status, StatusCode::PRECONDITION_FAILED);

    let rotated = http
        .send(Method::POST, "/session/rotate", &[JSON, ("cookie", &c)], "")
        .await;
    assert!(rotated.status.is_success(), "{}", rotated.text());
    let new_id = rotated.issued("sessionid").expect("a new cookie");
    assert_eq!(get_session(&http, &id).await.status, StatusCode::NOT_FOUND);
    let page = get_session(&http, &new_id).await;
    assert_eq!(page.json()["data"]["theme"], json!("dark"));

    let out = http
        .send(
            Method::DELETE,
            "/session",
            &[JSON, ("cookie", &cookie(&new_id))],
            "",
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(
        get_session(&http, &new_id).await.status,
        StatusCode::NOT_FOUND
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn two_replicas_on_one_redis_share_sessions() {
    let server = RedisServer::start();
    let mut a = on_redis(&server).await;
    let mut b = on_redis(&server).await;

    let created = create(&mut a, &[("user", "\"yuan\"")]).await;
    let read = b.client.get(get(&created.id)).await.unwrap().into_inner();
    assert_eq!(read.data, data(&[("user", "\"yuan\"")]));
    let changed = b
        .client
        .set(set(&created.id, &[("cart", "[1]")], Some(1)))
        .await;
    assert_eq!(changed.unwrap().into_inner().session.unwrap().version, 2);
    let seen = a.client.get(get(&created.id)).await.unwrap().into_inner();
    assert_eq!(seen.data["cart"], "[1]");
    let flushed = b
        .client
        .flush(pb::FlushRequest {
            id: created.id.clone(),
        })
        .await;
    assert!(flushed.unwrap().into_inner().existed);
    let gone = a.client.get(get(&created.id)).await;
    assert_eq!(gone.unwrap_err().code(), Code::NotFound);

    // A browser's cookie from one replica works on the other.
    let id = http_create(&a.http(), r#"{"theme": "dark"}"#).await;
    let page = get_session(&b.http(), &id).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.json()["data"]["theme"], json!("dark"));
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

/// Redis with `appendfsync always` is killed and started again: meanwhile
/// requests fail fast with UNAVAILABLE and health says NOT_SERVING; after,
/// health is back and every acknowledged write is there.
#[tokio::test]
async fn a_redis_restart_is_unavailable_then_recovered_with_nothing_acknowledged_lost() {
    let mut server = RedisServer::start_with(&["--appendonly", "yes", "--appendfsync", "always"]);
    let mut app = on_redis(&server).await;
    assert_eq!(health(&app).await, ServingStatus::Serving);
    let mut acknowledged = Vec::new();
    for n in 0..20 {
        let value = n.to_string();
        let info = create(&mut app, &[("n", &value)]).await;
        let reply = app.client.set(set(&info.id, &[("m", &value)], None)).await;
        assert!(reply.is_ok());
        acknowledged.push((info.id, value));
    }

    server.kill();
    let started = Instant::now();
    let during = app.client.get(get(&acknowledged[0].0)).await;
    assert_eq!(during.unwrap_err().code(), Code::Unavailable);
    let during = app.client.create(pb::CreateRequest::default()).await;
    assert_eq!(during.unwrap_err().code(), Code::Unavailable);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let admin = app.admin_addr;
    let not_ready = eventually(|| async move {
        http_get(admin, "/readyz")
            .await
            .is_ok_and(|r| r.status == 503)
    });
    assert!(not_ready.await, "/readyz says 503 while Redis is down");
    assert_eq!(health(&app).await, ServingStatus::NotServing);
    let page = get_session(&app.http(), &acknowledged[1].0).await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!page.expires_cookie(), "an outage logs no one out");
    let write = app
        .http()
        .send(
            Method::PATCH,
            "/session",
            &[
                ("content-type", "application/merge-patch+json"),
                ("cookie", &cookie(&acknowledged[1].0)),
            ],
            r#"{"x": 1}"#,
        )
        .await;
    assert_eq!(write.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        write.issued("sessionid").is_none(),
        "no new session in place of the old"
    );

    server.restart();
    let ready = eventually(|| async move {
        http_get(admin, "/readyz")
            .await
            .is_ok_and(|r| r.status == 200)
    });
    assert!(ready.await, "ready again once Redis is back");
    assert_eq!(health(&app).await, ServingStatus::Serving);
    for (id, value) in &acknowledged {
        let got = app.client.get(get(id)).await.unwrap().into_inner();
        assert_eq!(got.data, data(&[("n", value), ("m", value)]));
        assert_eq!(got.session.unwrap().version, 2);
    }
    app.stop().await.unwrap();
}

/// `rediss://` to a server whose certificate a private CA signed: trusted
/// with --redis-ca-file, refused (UNAVAILABLE, not ready) without it.
#[tokio::test]
async fn rediss_connects_over_tls_to_a_server_the_ca_file_vouches_for() {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let dir = tempfile::tempdir().unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "redis test CA");
    let ca = params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let cert = CertificateParams::new(names)
        .unwrap()
        .signed_by(&key, &ca, &ca_key)
        .unwrap();
    let path = |name: &str| dir.path().join(name);
    std::fs::write(path("ca.pem"), ca.pem()).unwrap();
    std::fs::write(path("server.pem"), cert.pem()).unwrap();
    std::fs::write(path("server.key"), key.serialize_pem()).unwrap();
    let server = RedisServer::start_tls(&path("server.pem"), &path("server.key"));
    let url = format!("rediss://127.0.0.1:{}", server.port);

    let ca_file = path("ca.pem");
    let tls_url = url.clone();
    let mut app = spawn_app_with(move |c| {
        c.storage.backend = BackendKind::Redis;
        c.storage.redis_url = RedisUrl(tls_url);
        c.storage.redis_ca_file = Some(ca_file);
    })
    .await;
    assert!(becomes_ready(&app).await, "ready over TLS");
    let created = create(&mut app, &[("a", "1")]).await;
    let got = app.client.get(get(&created.id)).await.unwrap().into_inner();
    assert_eq!(got.data, data(&[("a", "1")]));
    app.stop().await.unwrap();

    let mut untrusting = spawn_app_with(move |c| {
        c.storage.backend = BackendKind::Redis;
        c.storage.redis_url = RedisUrl(url);
        c.storage.redis_timeout = Duration::from_millis(300);
    })
    .await;
    let refused = untrusting.client.create(pb::CreateRequest::default()).await;
    assert_eq!(refused.unwrap_err().code(), Code::Unavailable);
    let admin = untrusting.admin_addr;
    let status = http_get(admin, "/readyz").await.unwrap().status;
    assert_eq!(status, 503, "not ready while the server is not trusted");
    untrusting.stop().await.unwrap();
}

#[tokio::test]
async fn watch_is_unimplemented_on_redis_and_says_so_while_pipeline_works() {
    let server = RedisServer::start();
    let mut app = on_redis(&server).await;
    let refused = app
        .client
        .watch(pb::WatchRequest {
            ids: vec![],
            namespace: true,
        })
        .await
        .expect_err("Watch is refused on Redis");
    assert_eq!(refused.code(), Code::Unimplemented);
    assert!(
        refused.message().contains("--backend redis"),
        "{}",
        refused.message()
    );

    let id = create(&mut app, &[("a", "1")]).await.id;
    let (send, requests) = tokio::sync::mpsc::channel(1);
    let mut replies = app
        .client
        .pipeline(tokio_stream::wrappers::ReceiverStream::new(requests))
        .await
        .unwrap()
        .into_inner();
    send.send(pb::PipelineRequest {
        tag: 7,
        op: Some(pb::pipeline_request::Op::Get(get(&id))),
    })
    .await
    .unwrap();
    let reply = replies.message().await.unwrap().unwrap();
    assert_eq!(reply.tag, 7);
    match reply.result {
        Some(pb::pipeline_response::Result::Get(read)) => assert_eq!(read.data["a"], "1"),
        other => panic!("{other:?}"),
    }
}
