//! Client-chosen ids and whole-object writes over real sockets (issue 17):
//! `Set` with `create_if_missing` only in a namespace listed in
//! `--client-id-namespaces`, the id rule and its refusal, `replace_all`,
//! `idle_timeout`, and `CountSessions` / `ClearSessions` with tokens.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use common::http_client::JSON;
use common::redis_server::RedisServer;
use common::{spawn_app_on_redis, spawn_app_with, TestApp, T0};
use http::{Method, StatusCode};
use sessiond::auth::hash_token_line;
use sessiond::grpc::pb;
use sessiond::session::Namespace;
use tonic::{Code, Request};

/// Read-write and read-only tokens of `express` (which chooses ids), and
/// a read-write one of `django` (which does not).
const EXPRESS: &str = "express-token";
const EXPRESS_RO: &str = "express-reader";
const DJANGO: &str = "django-token";

/// express-session's default id: 24 random bytes in base64url.
const EXPRESS_ID: &str = "vQ3x_Jk9-LmN0pQrStUvWxYz12AbCdEf";

fn tokens_file(dir: &tempfile::TempDir) -> PathBuf {
    let ns = |n| Namespace::parse(n).unwrap();
    let path = dir.path().join("tokens");
    let text = format!(
        "{}\n{}\n{}\n",
        hash_token_line(&ns("express"), EXPRESS, false),
        hash_token_line(&ns("express"), EXPRESS_RO, true),
        hash_token_line(&ns("django"), DJANGO, false),
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// A server where `express` chooses ids, with the gateway in `express`
/// too, so the test can show the gateway stays strict there.
async fn app() -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = tokens_file(&dir);
    let app = spawn_app_with(|config| {
        config.access.tokens_file = Some(path);
        config.access.client_id_namespaces = vec!["express".into()];
        config.gateway.http_namespace = "express".into();
        config.gateway.cookie_secure = false;
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

fn data(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// What express-session's `store.set` sends: the whole object, created if
/// missing, with the cookie's max age as the idle timeout.
fn store_set(id: &str, pairs: &[(&str, &str)]) -> pb::SetRequest {
    pb::SetRequest {
        id: id.into(),
        upsert: data(pairs),
        create_if_missing: true,
        replace_all: true,
        idle_timeout: Some(prost_types::Duration {
            seconds: 3600,
            nanos: 0,
        }),
        ..Default::default()
    }
}

fn get(id: &str) -> pb::GetRequest {
    pb::GetRequest {
        id: id.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_listed_namespace_creates_a_session_under_the_id_it_chose() {
    let (mut app, _dir) = app().await;
    let set = store_set(EXPRESS_ID, &[("user", "\"yuan\"")]);
    let info = app
        .client
        .set(bearer(EXPRESS, set))
        .await
        .unwrap()
        .into_inner()
        .session
        .unwrap();
    assert_eq!(info.id, EXPRESS_ID);
    assert_eq!(info.version, 1);
    assert_eq!(info.idle_timeout.unwrap().seconds, 3600);
    assert_eq!(info.expires_at.unwrap().seconds as u64, T0 / 1000 + 3600);

    let got = app
        .client
        .get(bearer(EXPRESS, get(EXPRESS_ID)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.data, data(&[("user", "\"yuan\"")]));

    // The next whole-object write replaces the map.
    let set = store_set(EXPRESS_ID, &[("cart", "[1]")]);
    let info = app.client.set(bearer(EXPRESS, set)).await.unwrap();
    assert_eq!(info.into_inner().session.unwrap().version, 2);
    let got = app.client.get(bearer(EXPRESS, get(EXPRESS_ID))).await;
    assert_eq!(got.unwrap().into_inner().data, data(&[("cart", "[1]")]));
}

#[tokio::test]
async fn a_chosen_id_under_128_bits_or_outside_the_alphabet_is_refused_naming_the_rule() {
    let (mut app, _dir) = app().await;
    for bad in [
        "tooShort_21characters",
        "has+plus/and=padding0000",
        "has a space in it 0000000",
        "",
    ] {
        let refused = app
            .client
            .set(bearer(EXPRESS, store_set(bad, &[])))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{bad:?}");
        assert!(
            refused
                .message()
                .contains("22 to 256 characters of [A-Za-z0-9_-]"),
            "{}",
            refused.message()
        );
    }
    let long = "a".repeat(257);
    let refused = app.client.set(bearer(EXPRESS, store_set(&long, &[]))).await;
    assert_eq!(refused.unwrap_err().code(), Code::InvalidArgument);
    // 22 characters are enough.
    let shortest = "a".repeat(22);
    let made = app.client.set(bearer(EXPRESS, store_set(&shortest, &[])));
    assert!(made.await.is_ok());
}

#[tokio::test]
async fn every_other_namespace_stays_strict() {
    let (mut app, _dir) = app().await;
    // A chosen-shape id is malformed there...
    let refused = app
        .client
        .set(bearer(DJANGO, store_set(EXPRESS_ID, &[])))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().contains("32 characters of [a-z0-9]"));
    // ...and an id of the server's shape it never issued is not found,
    // create_if_missing or not.
    let unissued = "abcdefghijklmnopqrstuvwxyz012345";
    let refused = app
        .client
        .set(bearer(DJANGO, store_set(unissued, &[])))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::NotFound);
    let refused = app.client.get(bearer(DJANGO, get(unissued))).await;
    assert_eq!(refused.unwrap_err().code(), Code::NotFound);
}

#[tokio::test]
async fn the_gateway_stays_strict_even_in_a_listed_namespace() {
    let (mut app, _dir) = app().await;
    app.client
        .set(bearer(EXPRESS, store_set(EXPRESS_ID, &[("a", "1")])))
        .await
        .unwrap();
    let http = app.http();
    let cookie = format!("sessionid={EXPRESS_ID}");
    let response = http
        .send(Method::GET, "/session", &[("cookie", &cookie)], "")
        .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    // A PATCH with that cookie makes a fresh, server-issued session.
    let response = http
        .send(
            Method::PATCH,
            "/session",
            &[("cookie", &cookie), JSON],
            r#"{"b": 2}"#,
        )
        .await;
    assert!(response.status.is_success(), "{}", response.status);
    let issued = response.issued("sessionid").expect("a fresh cookie");
    assert_ne!(issued, EXPRESS_ID);
    assert_eq!(issued.len(), 32);
    let got = app.client.get(bearer(EXPRESS, get(EXPRESS_ID))).await;
    assert_eq!(got.unwrap().into_inner().data, data(&[("a", "1")]));
}

#[tokio::test]
async fn a_read_only_token_may_count_but_not_clear_or_create() {
    let (mut app, _dir) = app().await;
    for i in 0..3 {
        let id = format!("{EXPRESS_ID}{i}");
        app.client
            .set(bearer(EXPRESS, store_set(&id, &[])))
            .await
            .unwrap();
    }
    app.client
        .create(bearer(DJANGO, pb::CreateRequest::default()))
        .await
        .unwrap();

    let count = |token| bearer(token, pb::CountSessionsRequest {});
    let n = app.client.count_sessions(count(EXPRESS_RO)).await.unwrap();
    assert_eq!(n.into_inner().count, 3);
    let n = app.client.count_sessions(count(DJANGO)).await.unwrap();
    assert_eq!(n.into_inner().count, 1);

    let clear = |token| bearer(token, pb::ClearSessionsRequest {});
    let refused = app.client.clear_sessions(clear(EXPRESS_RO)).await;
    let refused = refused.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert!(refused.message().contains("read-only"));
    let refused = app
        .client
        .set(bearer(EXPRESS_RO, store_set(EXPRESS_ID, &[])))
        .await;
    assert_eq!(refused.unwrap_err().code(), Code::PermissionDenied);

    let cleared = app.client.clear_sessions(clear(EXPRESS)).await.unwrap();
    assert_eq!(cleared.into_inner().cleared, 3);
    let n = app.client.count_sessions(count(EXPRESS_RO)).await.unwrap();
    assert_eq!(n.into_inner().count, 0);
    // The other namespace is untouched.
    let n = app.client.count_sessions(count(DJANGO)).await.unwrap();
    assert_eq!(n.into_inner().count, 1);
}

#[tokio::test]
async fn count_clear_and_created_sessions_show_in_metrics() {
    let (mut app, _dir) = app().await;
    app.client
        .set(bearer(EXPRESS, store_set(EXPRESS_ID, &[])))
        .await
        .unwrap();
    app.client
        .count_sessions(bearer(EXPRESS, pb::CountSessionsRequest {}))
        .await
        .unwrap();
    app.client
        .clear_sessions(bearer(EXPRESS, pb::ClearSessionsRequest {}))
        .await
        .unwrap();
    let metrics = common::http_get(app.admin_addr, "/metrics").await.unwrap();
    for series in [
        r#"sessiond_requests_total{api="grpc",method="Set",outcome="OK"} 1"#,
        r#"sessiond_requests_total{api="grpc",method="CountSessions",outcome="OK"} 1"#,
        r#"sessiond_requests_total{api="grpc",method="ClearSessions",outcome="OK"} 1"#,
        "sessiond_sessions_created_total 1",
        "sessiond_sessions_flushed_total 1",
    ] {
        assert!(
            metrics.body.lines().any(|l| l == series),
            "{series} in {}",
            metrics.body
        );
    }
}

#[tokio::test]
async fn an_expired_chosen_session_is_gone_and_may_be_made_again() {
    let (mut app, _dir) = app().await;
    app.client
        .set(bearer(EXPRESS, store_set(EXPRESS_ID, &[("a", "1")])))
        .await
        .unwrap();
    app.clock.advance(Duration::from_secs(3600));
    let gone = app.client.get(bearer(EXPRESS, get(EXPRESS_ID))).await;
    assert_eq!(gone.unwrap_err().code(), Code::NotFound);
    let n = app
        .client
        .count_sessions(bearer(EXPRESS, pb::CountSessionsRequest {}))
        .await
        .unwrap();
    assert_eq!(n.into_inner().count, 0);
    let again = app
        .client
        .set(bearer(EXPRESS, store_set(EXPRESS_ID, &[("b", "2")])))
        .await
        .unwrap();
    assert_eq!(again.into_inner().session.unwrap().version, 1);
}

#[tokio::test]
async fn on_redis_a_whole_object_store_works_the_same_and_counts_across_replicas() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let path = tokens_file(&dir);
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let (url, path) = (redis.url(), path.clone());
        let app = spawn_app_on_redis(url, move |config| {
            config.access.tokens_file = Some(path);
            config.access.client_id_namespaces = vec!["express".into()];
        })
        .await;
        replicas.push(app);
    }
    let (a, b) = replicas.split_at_mut(1);
    let (a, b) = (&mut a[0], &mut b[0]);

    // Created on one replica, replaced on the other.
    let made = a
        .client
        .set(bearer(
            EXPRESS,
            store_set(EXPRESS_ID, &[("user", "\"yuan\"")]),
        ))
        .await
        .unwrap()
        .into_inner()
        .session
        .unwrap();
    assert_eq!((made.id.as_str(), made.version), (EXPRESS_ID, 1));
    assert_eq!(made.idle_timeout.unwrap().seconds, 3600);
    let set = store_set(EXPRESS_ID, &[("cart", "[1]")]);
    let replaced = b.client.set(bearer(EXPRESS, set)).await.unwrap();
    assert_eq!(replaced.into_inner().session.unwrap().version, 2);
    let got = a
        .client
        .get(bearer(EXPRESS, get(EXPRESS_ID)))
        .await
        .unwrap();
    assert_eq!(got.into_inner().data, data(&[("cart", "[1]")]));

    // The other namespace stays strict on Redis too.
    let refused = a
        .client
        .set(bearer(
            DJANGO,
            store_set("abcdefghijklmnopqrstuvwxyz012345", &[]),
        ))
        .await;
    assert_eq!(refused.unwrap_err().code(), Code::NotFound);
    a.client
        .create(bearer(DJANGO, pb::CreateRequest::default()))
        .await
        .unwrap();

    let count = |token| bearer(token, pb::CountSessionsRequest {});
    let n = b.client.count_sessions(count(EXPRESS_RO)).await.unwrap();
    assert_eq!(n.into_inner().count, 1);
    let refused = b
        .client
        .clear_sessions(bearer(EXPRESS_RO, pb::ClearSessionsRequest {}))
        .await;
    assert_eq!(refused.unwrap_err().code(), Code::PermissionDenied);
    let cleared = b
        .client
        .clear_sessions(bearer(EXPRESS, pb::ClearSessionsRequest {}))
        .await
        .unwrap();
    assert_eq!(cleared.into_inner().cleared, 1);
    let gone = a.client.get(bearer(EXPRESS, get(EXPRESS_ID))).await;
    assert_eq!(gone.unwrap_err().code(), Code::NotFound);
    let n = a.client.count_sessions(count(DJANGO)).await.unwrap();
    assert_eq!(n.into_inner().count, 1);
}
