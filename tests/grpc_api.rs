//! The gRPC API over a real socket: every RPC, every status code, every limit.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{spawn_app, spawn_app_with, TestApp, T0};
use sessiond::grpc::pb;
use tonic::Code;

fn data(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn create(d: HashMap<String, String>) -> pb::CreateRequest {
    pb::CreateRequest {
        data: d,
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

fn set(id: &str, upsert: &[(&str, &str)]) -> pb::SetRequest {
    pb::SetRequest {
        id: id.into(),
        upsert: data(upsert),
        remove: vec![],
        expected_version: None,
        ..Default::default()
    }
}

/// Creates a session with `d` and returns what the server said of it.
async fn new_session(app: &mut TestApp, d: HashMap<String, String>) -> pb::SessionInfo {
    let reply = app.client.create(create(d)).await.unwrap().into_inner();
    reply.session.expect("Create returns the session")
}

fn secs(s: i64) -> prost_types::Duration {
    prost_types::Duration {
        seconds: s,
        nanos: 0,
    }
}

#[tokio::test]
async fn the_django_login_flow_works_end_to_end() {
    let mut app = spawn_app().await;
    let session = new_session(&mut app, data(&[])).await;
    assert_eq!(session.id.len(), 32);
    assert!(session
        .id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    assert_eq!(session.version, 1);
    assert_eq!(session.created_at.unwrap().seconds, (T0 / 1000) as i64);
    assert_eq!(session.idle_timeout.unwrap().seconds, 14 * 24 * 3600);

    let login = set(
        &session.id,
        &[("is_login", "true"), ("username", "\"yuan\"")],
    );
    let after = app
        .client
        .set(login)
        .await
        .unwrap()
        .into_inner()
        .session
        .unwrap();
    assert_eq!(after.version, 2);

    let read = app.client.get(get(&session.id)).await.unwrap().into_inner();
    assert_eq!(
        read.data,
        data(&[("is_login", "true"), ("username", "\"yuan\"")])
    );
    assert_eq!(read.session.unwrap().version, 2);

    let flush = pb::FlushRequest {
        id: session.id.clone(),
    };
    assert!(
        app.client
            .flush(flush.clone())
            .await
            .unwrap()
            .into_inner()
            .existed
    );
    assert!(!app.client.flush(flush).await.unwrap().into_inner().existed);
    let gone = app.client.get(get(&session.id)).await.unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn get_reads_only_the_keys_asked_for() {
    let mut app = spawn_app().await;
    let id = new_session(
        &mut app,
        data(&[("a", "1"), ("b", "{\"x\":[true,null]}"), ("c", "3")]),
    )
    .await
    .id;
    let mut req = get(&id);
    req.keys = vec!["b".into(), "missing".into()];
    let read = app.client.get(req).await.unwrap().into_inner();
    assert_eq!(read.data, data(&[("b", "{\"x\":[true,null]}")]));
}

#[tokio::test]
async fn malformed_input_is_invalid_argument_with_a_useful_message() {
    let mut app = spawn_app().await;
    let id = new_session(&mut app, data(&[])).await.id;

    let cases: Vec<(tonic::Status, &str)> = vec![
        (
            app.client.get(get("not-an-id")).await.unwrap_err(),
            "malformed session id",
        ),
        (
            app.client.get(get(&id.to_uppercase())).await.unwrap_err(),
            "malformed session id",
        ),
        (
            app.client
                .set(set(&id, &[("k", "not json")]))
                .await
                .unwrap_err(),
            "not valid JSON",
        ),
        (
            app.client.set(set(&id, &[("", "1")])).await.unwrap_err(),
            "empty",
        ),
        (
            app.client
                .set(set(&id, &[(&"k".repeat(257), "1")]))
                .await
                .unwrap_err(),
            "256",
        ),
        (
            app.client
                .create(pb::CreateRequest {
                    data: data(&[]),
                    idle_timeout: Some(secs(-1)),
                    user: None,
                })
                .await
                .unwrap_err(),
            "idle_timeout",
        ),
        (
            app.client
                .touch(pb::TouchRequest {
                    id: id.clone(),
                    idle_timeout: Some(secs(400 * 24 * 3600)),
                })
                .await
                .unwrap_err(),
            "bounds",
        ),
        (
            app.client
                .flush(pb::FlushRequest { id: "x".into() })
                .await
                .unwrap_err(),
            "malformed",
        ),
        (
            app.client
                .rotate(pb::RotateRequest { id: "".into() })
                .await
                .unwrap_err(),
            "malformed",
        ),
    ];
    for (status, needle) in cases {
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert!(
            status.message().contains(needle),
            "{:?} lacks {needle:?}",
            status.message()
        );
    }
    // Nothing above changed the session.
    let read = app.client.get(get(&id)).await.unwrap().into_inner();
    assert_eq!(read.session.unwrap().version, 1);
    assert!(read.data.is_empty());
}

#[tokio::test]
async fn an_unknown_id_is_not_found_for_every_rpc() {
    let mut app = spawn_app().await;
    let unknown = "abcdefghijklmnopqrstuvwxyz012345".to_string();
    let codes = [
        app.client.get(get(&unknown)).await.unwrap_err().code(),
        app.client
            .set(set(&unknown, &[("a", "1")]))
            .await
            .unwrap_err()
            .code(),
        app.client
            .rotate(pb::RotateRequest {
                id: unknown.clone(),
            })
            .await
            .unwrap_err()
            .code(),
        app.client
            .touch(pb::TouchRequest {
                id: unknown.clone(),
                idle_timeout: None,
            })
            .await
            .unwrap_err()
            .code(),
    ];
    assert!(codes.iter().all(|&c| c == Code::NotFound), "{codes:?}");
    let flushed = app
        .client
        .flush(pb::FlushRequest { id: unknown })
        .await
        .unwrap();
    assert!(!flushed.into_inner().existed);
}

#[tokio::test]
async fn a_stale_expected_version_is_aborted_and_changes_nothing() {
    let mut app = spawn_app().await;
    let id = new_session(&mut app, data(&[])).await.id;
    let mut first = set(&id, &[("cart", "[1]")]);
    first.expected_version = Some(1);
    app.client.set(first).await.unwrap();
    let mut stale = set(&id, &[("cart", "[2]")]);
    stale.expected_version = Some(1);
    let err = app.client.set(stale).await.unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
    assert!(err.message().contains("expected 1"), "{}", err.message());
    let read = app.client.get(get(&id)).await.unwrap().into_inner();
    assert_eq!(read.data["cart"], "[1]");
}

#[tokio::test]
async fn set_applies_upserts_and_removals_together() {
    let mut app = spawn_app().await;
    let id = new_session(&mut app, data(&[("a", "1"), ("b", "2")]))
        .await
        .id;
    let mut req = set(&id, &[("c", "3")]);
    req.remove = vec!["a".into()];
    app.client.set(req).await.unwrap();
    let read = app.client.get(get(&id)).await.unwrap().into_inner();
    assert_eq!(read.data, data(&[("b", "2"), ("c", "3")]));
}

#[tokio::test]
async fn every_limit_is_resource_exhausted_and_names_its_setting() {
    let mut app = spawn_app_with(|c| {
        c.sessions.max_value_bytes = 16;
        c.sessions.max_session_bytes = 40;
        c.sessions.max_keys = 3;
        c.sessions.max_sessions = 2;
    })
    .await;
    let id = new_session(&mut app, data(&[])).await.id;

    let big_value = format!("\"{}\"", "x".repeat(20));
    let checks = [
        (set(&id, &[("k", &big_value)]), "max-value-bytes"),
        (
            set(&id, &[("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")]),
            "max-keys",
        ),
        (
            set(
                &id,
                &[
                    ("a", "\"0123456789abc\""),
                    ("b", "\"0123456789abc\""),
                    ("c", "\"0123456789abc\""),
                ],
            ),
            "max-session-bytes",
        ),
    ];
    for (req, setting) in checks {
        let err = app.client.set(req).await.unwrap_err();
        assert_eq!(err.code(), Code::ResourceExhausted);
        assert!(err.message().contains(setting), "{}", err.message());
    }
    app.client.create(create(data(&[]))).await.unwrap();
    let err = app.client.create(create(data(&[]))).await.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted);
    assert!(err.message().contains("max-sessions"));

    let read = app.client.get(get(&id)).await.unwrap().into_inner();
    assert!(read.data.is_empty(), "no limit was half-applied");
    assert_eq!(read.session.unwrap().version, 1);
}

#[tokio::test]
async fn rotate_kills_the_old_id_and_keeps_the_data() {
    let mut app = spawn_app().await;
    let old = new_session(&mut app, data(&[("username", "\"yuan\"")])).await;
    let new = app
        .client
        .rotate(pb::RotateRequest { id: old.id.clone() })
        .await
        .unwrap()
        .into_inner()
        .session
        .unwrap();
    assert_ne!(new.id, old.id);
    assert!(new.version > old.version);
    assert_eq!(
        app.client.get(get(&old.id)).await.unwrap_err().code(),
        Code::NotFound
    );
    let read = app.client.get(get(&new.id)).await.unwrap().into_inner();
    assert_eq!(read.data, data(&[("username", "\"yuan\"")]));
}

#[tokio::test]
async fn an_idle_session_expires_and_activity_keeps_it_alive() {
    let mut app = spawn_app_with(|c| c.sessions.idle_timeout = Duration::from_secs(60)).await;
    let kept = new_session(&mut app, data(&[])).await;
    let idle = new_session(&mut app, data(&[])).await;
    assert_eq!(kept.expires_at.unwrap().seconds, (T0 / 1000) as i64 + 60);

    app.clock.advance(Duration::from_secs(45));
    let touched = app
        .client
        .touch(pb::TouchRequest {
            id: kept.id.clone(),
            idle_timeout: None,
        })
        .await
        .unwrap()
        .into_inner()
        .session
        .unwrap();
    assert_eq!(
        touched.expires_at.unwrap().seconds,
        (T0 / 1000) as i64 + 105
    );

    app.clock.advance(Duration::from_secs(15));
    assert_eq!(
        app.client.get(get(&idle.id)).await.unwrap_err().code(),
        Code::NotFound
    );
    let mut peek = get(&kept.id);
    peek.no_touch = true;
    app.client.get(peek).await.unwrap();

    app.clock.advance(Duration::from_secs(45));
    assert_eq!(
        app.client.get(get(&kept.id)).await.unwrap_err().code(),
        Code::NotFound
    );
}

#[tokio::test]
async fn a_per_session_idle_timeout_is_honoured() {
    let mut app = spawn_app().await;
    let short = app
        .client
        .create(pb::CreateRequest {
            data: data(&[]),
            idle_timeout: Some(secs(30)),
            user: None,
        })
        .await
        .unwrap()
        .into_inner()
        .session
        .unwrap();
    assert_eq!(short.idle_timeout.unwrap().seconds, 30);
    app.clock.advance(Duration::from_secs(30));
    assert_eq!(
        app.client.get(get(&short.id)).await.unwrap_err().code(),
        Code::NotFound
    );
}

#[tokio::test]
async fn the_absolute_timeout_ends_even_a_busy_session() {
    let mut app = spawn_app_with(|c| {
        c.sessions.idle_timeout = Duration::from_secs(600);
        c.sessions.absolute_timeout = Some(Duration::from_secs(3600));
    })
    .await;
    let id = new_session(&mut app, data(&[])).await.id;
    for _ in 0..11 {
        app.clock.advance(Duration::from_secs(300));
        app.client.set(set(&id, &[("seen", "true")])).await.unwrap();
    }
    let read = app.client.get(get(&id)).await.unwrap().into_inner();
    assert_eq!(
        read.session.unwrap().expires_at.unwrap().seconds,
        (T0 / 1000) as i64 + 3600
    );
    app.clock.advance(Duration::from_secs(300));
    assert_eq!(
        app.client.get(get(&id)).await.unwrap_err().code(),
        Code::NotFound
    );
}

#[tokio::test]
async fn expired_sessions_are_reclaimed_in_the_background() {
    let mut app = spawn_app_with(|c| c.sessions.idle_timeout = Duration::from_secs(60)).await;
    for _ in 0..20 {
        app.client
            .create(create(data(&[("a", "1")])))
            .await
            .unwrap();
    }
    assert_eq!(app.store.len(), 20);
    app.clock.advance(Duration::from_secs(60));
    for _ in 0..1000 {
        if app.store.is_empty() {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(app.store.len(), 0);
    assert_eq!(app.store.stats().expired, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_of_different_keys_lose_nothing() {
    let mut app = spawn_app().await;
    let id = new_session(&mut app, data(&[])).await.id;
    let writers: Vec<_> = (0..16)
        .map(|w| {
            let mut client = app.client.clone();
            let id = id.clone();
            tokio::spawn(async move {
                for i in 0..25 {
                    let key = format!("w{w}-{i}");
                    client
                        .set(set(&id, &[(&key, &i.to_string())]))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let read = app.client.get(get(&id)).await.unwrap().into_inner();
    assert_eq!(read.data.len(), 16 * 25);
    assert_eq!(read.session.unwrap().version, 1 + 16 * 25);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_and_set_lets_exactly_one_of_racing_writers_win() {
    let mut app = spawn_app().await;
    let id = new_session(&mut app, data(&[("n", "0")])).await.id;
    let racers: Vec<_> = (0..8)
        .map(|r| {
            let mut client = app.client.clone();
            let id = id.clone();
            tokio::spawn(async move {
                let mut req = set(&id, &[("n", &r.to_string())]);
                req.expected_version = Some(1);
                client.set(req).await.map(|_| ()).map_err(|s| s.code())
            })
        })
        .collect();
    let mut wins = 0;
    for r in racers {
        match r.await.unwrap() {
            Ok(()) => wins += 1,
            Err(code) => assert_eq!(code, Code::Aborted),
        }
    }
    assert_eq!(wins, 1);
}
