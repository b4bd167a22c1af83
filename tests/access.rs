//! Access control over real sockets: bearer tokens, read-only tokens,
//! namespace isolation for every RPC and for the gateway, per-namespace
//! limits, token reload, and brute-force counting.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use common::http_client::JSON;
use common::{http_get, spawn_app_with, TestApp};
use http::{Method, StatusCode};
use sessiond::auth::hash_token_line;
use sessiond::grpc::pb;
use sessiond::grpc::pb::session_service_client::SessionServiceClient;
use sessiond::session::Namespace;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

const SHOP: &str = "shop-token";
const SHOP_RO: &str = "shop-reader";
const BLOG: &str = "blog-token";

fn ns(name: &str) -> Namespace {
    Namespace::parse(name).unwrap()
}

/// A tokens file with a read-write and a read-only token for `shop` and a
/// read-write one for `blog`.
fn tokens_file(dir: &tempfile::TempDir) -> PathBuf {
    let path = dir.path().join("tokens");
    let text = format!(
        "# test tokens\n{}\n{}\n{}\n",
        hash_token_line(&ns("shop"), SHOP, false),
        hash_token_line(&ns("shop"), SHOP_RO, true),
        hash_token_line(&ns("blog"), BLOG, false),
    );
    std::fs::write(&path, text).unwrap();
    path
}

async fn app_with_tokens(
    configure: impl FnOnce(&mut sessiond::config::Config),
) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = tokens_file(&dir);
    let app = spawn_app_with(|config| {
        config.access.tokens_file = Some(path);
        configure(config);
    })
    .await;
    (app, dir)
}

fn bearer<T>(token: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

fn create() -> pb::CreateRequest {
    pb::CreateRequest {
        data: HashMap::from([("user".into(), "\"yuan\"".into())]),
        idle_timeout: None,
        user: None,
    }
}

fn get(id: &str) -> pb::GetRequest {
    pb::GetRequest {
        id: id.into(),
        keys: vec![],
        no_touch: false,
    }
}

fn set(id: &str) -> pb::SetRequest {
    pb::SetRequest {
        id: id.into(),
        upsert: HashMap::from([("cart".into(), "[1]".into())]),
        remove: vec![],
        expected_version: None,
        ..Default::default()
    }
}

fn touch(id: &str) -> pb::TouchRequest {
    pb::TouchRequest {
        id: id.into(),
        idle_timeout: None,
    }
}

async fn create_with(client: &mut SessionServiceClient<Channel>, token: &str) -> String {
    client
        .create(bearer(token, create()))
        .await
        .unwrap()
        .into_inner()
        .session
        .unwrap()
        .id
}

/// Every RPC on `id` with `token`: the status code of each, in the order
/// Get, Set, Touch, Rotate, Flush (of the rotated id, if Rotate worked;
/// `existed: false` counts as NotFound).
async fn every_rpc(
    client: &mut SessionServiceClient<Channel>,
    token: &str,
    id: &str,
) -> Vec<(&'static str, Code)> {
    fn code<T>(r: Result<T, Status>) -> Code {
        r.map_or_else(|s| s.code(), |_| Code::Ok)
    }
    let mut codes = vec![
        ("Get", code(client.get(bearer(token, get(id))).await)),
        ("Set", code(client.set(bearer(token, set(id))).await)),
        ("Touch", code(client.touch(bearer(token, touch(id))).await)),
    ];
    let rotated = client
        .rotate(bearer(token, pb::RotateRequest { id: id.into() }))
        .await;
    // Flush what Rotate left: the new id if it worked, else the same one.
    let id = match &rotated {
        Ok(reply) => reply.get_ref().session.clone().unwrap().id,
        Err(_) => id.to_string(),
    };
    codes.push(("Rotate", code(rotated)));
    let flushed = match client.flush(bearer(token, pb::FlushRequest { id })).await {
        Ok(reply) if reply.get_ref().existed => Code::Ok,
        Ok(_) => Code::NotFound,
        Err(status) => status.code(),
    };
    codes.push(("Flush", flushed));
    codes
}

#[tokio::test]
async fn a_request_without_a_valid_token_is_unauthenticated_and_reaches_no_handler() {
    let (mut app, _dir) = app_with_tokens(|_| {}).await;
    let missing = app.client.create(create()).await.unwrap_err();
    assert_eq!(missing.code(), Code::Unauthenticated);
    assert!(
        missing.message().contains("Bearer"),
        "{}",
        missing.message()
    );
    for token in ["wrong", "", SHOP.trim_end_matches('n')] {
        let refused = app
            .client
            .create(bearer(token, create()))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::Unauthenticated, "{token:?}");
    }
    let mut basic = Request::new(create());
    basic
        .metadata_mut()
        .insert("authorization", format!("Basic {SHOP}").parse().unwrap());
    assert_eq!(
        app.client.create(basic).await.unwrap_err().code(),
        Code::Unauthenticated
    );
    assert_eq!(app.store.len(), 0, "nothing was created");

    let id = create_with(&mut app.client, SHOP).await;
    assert_eq!(
        app.client.get(get(&id)).await.unwrap_err().code(),
        Code::Unauthenticated,
        "a session id is no credential"
    );
    let metrics = http_get(app.admin_addr, "/metrics").await.unwrap().body;
    assert!(
        metrics.lines().any(|l| l
            == r#"sessiond_requests_total{api="grpc",method="Authenticate",outcome="UNAUTHENTICATED"} 6"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn health_and_reflection_need_no_token() {
    let (app, _dir) = app_with_tokens(|_| {}).await;
    let channel = Channel::from_shared(format!("http://{}", app.grpc_addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let reply = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap();
    assert_eq!(reply.into_inner().status, 1, "SERVING");
}

#[tokio::test]
async fn a_read_only_token_reads_but_every_change_is_permission_denied() {
    let (mut app, _dir) = app_with_tokens(|_| {}).await;
    let id = create_with(&mut app.client, SHOP).await;
    let read = app.client.get(bearer(SHOP_RO, get(&id))).await.unwrap();
    assert_eq!(read.into_inner().data["user"], "\"yuan\"");

    let denied = app
        .client
        .create(bearer(SHOP_RO, create()))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(denied.message().contains("read-only"));
    let codes = every_rpc(&mut app.client, SHOP_RO, &id).await;
    for (rpc, code) in codes {
        let expected = if rpc == "Get" {
            Code::Ok
        } else {
            Code::PermissionDenied
        };
        assert_eq!(code, expected, "{rpc}");
    }
    let (info, data) = app
        .store
        .get(
            &ns("shop"),
            &sessiond::session::SessionId::parse(&id).unwrap(),
            &[],
            false,
        )
        .await
        .unwrap();
    assert_eq!((info.version, data.len()), (1, 1), "nothing changed");
}

#[tokio::test]
async fn another_namespaces_session_is_not_found_by_every_rpc() {
    let (mut app, _dir) = app_with_tokens(|_| {}).await;
    let id = create_with(&mut app.client, SHOP).await;
    for (rpc, code) in every_rpc(&mut app.client, BLOG, &id).await {
        assert_eq!(code, Code::NotFound, "{rpc} across namespaces");
    }
    // Untouched: shop still has it and can do everything with it.
    for (rpc, code) in every_rpc(&mut app.client, SHOP, &id).await {
        assert_eq!(code, Code::Ok, "{rpc} in its own namespace");
    }
}

#[tokio::test]
async fn the_gateway_serves_its_namespace_only() {
    let (mut app, _dir) = app_with_tokens(|config| {
        config.gateway.http_namespace = "shop".into();
    })
    .await;
    let http = app.http();
    let created = http
        .send(Method::POST, "/session", &[JSON], r#"{"from": "browser"}"#)
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let browser = created.issued("sessionid").unwrap();

    // The shop's backends see the browser's session; the blog's do not.
    let read = app.client.get(bearer(SHOP, get(&browser))).await.unwrap();
    assert_eq!(read.into_inner().data["from"], "\"browser\"");
    let other = app
        .client
        .get(bearer(BLOG, get(&browser)))
        .await
        .unwrap_err();
    assert_eq!(other.code(), Code::NotFound);

    // A blog session's id in the cookie names nothing at the gateway.
    let blog = create_with(&mut app.client, BLOG).await;
    let cookie = format!("sessionid={blog}");
    let reply = http.get("/session", &[("cookie", &cookie)]).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let shop = create_with(&mut app.client, SHOP).await;
    let cookie = format!("sessionid={shop}");
    assert_eq!(
        http.get("/session", &[("cookie", &cookie)]).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn each_namespace_is_bounded_on_its_own() {
    let (mut app, _dir) = app_with_tokens(|config| {
        config.sessions.max_sessions_per_namespace = Some(2);
    })
    .await;
    create_with(&mut app.client, SHOP).await;
    create_with(&mut app.client, SHOP).await;
    let full = app.client.create(bearer(SHOP, create())).await.unwrap_err();
    assert_eq!(full.code(), Code::ResourceExhausted);
    assert!(
        full.message().contains("max-sessions-per-namespace"),
        "{}",
        full.message()
    );
    create_with(&mut app.client, BLOG).await;
}

#[tokio::test]
async fn reloading_the_tokens_file_rotates_tokens_and_a_bad_file_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = tokens_file(&dir);
    let mut app = spawn_app_with(|config| config.access.tokens_file = Some(path.clone())).await;
    let tokens = app.tokens.clone().expect("tokens configured");
    create_with(&mut app.client, SHOP).await;

    std::fs::write(&path, hash_token_line(&ns("shop"), "rotated", false)).unwrap();
    tokens.reload_and_log();
    let old = app.client.create(bearer(SHOP, create())).await.unwrap_err();
    assert_eq!(old.code(), Code::Unauthenticated);
    create_with(&mut app.client, "rotated").await;

    std::fs::write(&path, "shop:not-a-hash\n").unwrap();
    assert!(tokens.reload().is_err());
    create_with(&mut app.client, "rotated").await;
}

#[tokio::test]
async fn lookups_of_unknown_ids_are_counted_per_peer_without_the_ids() {
    let (mut app, _dir) = app_with_tokens(|_| {}).await;
    let unknown = "abcdefghijklmnopqrstuvwxyz012345";
    for _ in 0..3 {
        let missing = app
            .client
            .get(bearer(SHOP, get(unknown)))
            .await
            .unwrap_err();
        assert_eq!(missing.code(), Code::NotFound);
    }
    let cookie = format!("sessionid={unknown}");
    app.http().get("/session", &[("cookie", &cookie)]).await;

    let metrics = http_get(app.admin_addr, "/metrics").await.unwrap().body;
    for line in [
        r#"sessiond_unknown_session_lookups_total{api="grpc"} 3"#,
        r#"sessiond_unknown_session_lookups_total{api="http"} 1"#,
        r#"sessiond_unknown_session_lookups_by_peer{peer="127.0.0.1"} 4"#,
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in {metrics}");
    }
    assert!(!metrics.contains(unknown));
}
