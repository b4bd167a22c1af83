//! `Watch` over real sockets: the first `resync` event and its epoch,
//! `changed` and `ended` events for each way a session changes or ends,
//! ids never shown to a namespace-wide watcher, namespaces kept apart, a
//! slow subscriber dropped, bad requests, and shutdown.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{spawn_app, spawn_app_with, spawn_app_with_tokens, TestApp};
use sessiond::grpc::pb;
use sessiond::grpc::pb::watch_ended::Reason;
use sessiond::grpc::pb::watch_event::Event as Kind;
use sessiond::session::{Namespace, SessionId, Update};
use tonic::{Code, Request, Streaming};

fn with_token<T>(token: Option<&str>, message: T) -> Request<T> {
    let mut request = Request::new(message);
    if let Some(token) = token {
        let value = format!("Bearer {token}").parse().unwrap();
        request.metadata_mut().insert("authorization", value);
    }
    request
}

async fn watch(
    app: &TestApp,
    token: Option<&str>,
    ids: &[&str],
) -> Result<Streaming<pb::WatchEvent>, tonic::Status> {
    let request = pb::WatchRequest {
        ids: ids.iter().map(|s| s.to_string()).collect(),
        namespace: ids.is_empty(),
    };
    let stream = app.client.clone().watch(with_token(token, request)).await?;
    Ok(stream.into_inner())
}

/// Opens a Watch and takes its first event, which must be `resync`: the
/// stream and the epoch it names.
async fn watching(
    app: &TestApp,
    token: Option<&str>,
    ids: &[&str],
) -> (Streaming<pb::WatchEvent>, String) {
    let mut events = watch(app, token, ids).await.unwrap();
    let first = events.message().await.unwrap().unwrap();
    match first.event {
        Some(Kind::Resync(r)) => (events, r.epoch),
        other => panic!("the first event is not resync: {other:?}"),
    }
}

async fn next(events: &mut Streaming<pb::WatchEvent>) -> pb::WatchEvent {
    events.message().await.unwrap().expect("an event")
}

fn ended(reason: Reason) -> Option<Kind> {
    Some(Kind::Ended(pb::WatchEnded {
        reason: reason as i32,
    }))
}

fn changed(version: u64) -> Option<Kind> {
    Some(Kind::Changed(pb::WatchChanged { version }))
}

async fn create(app: &TestApp, token: Option<&str>, idle_s: Option<i64>) -> String {
    let request = pb::CreateRequest {
        data: HashMap::from([("user".into(), "\"yuan\"".into())]),
        idle_timeout: idle_s.map(|seconds| prost_types::Duration { seconds, nanos: 0 }),
        user: None,
    };
    let created = app
        .client
        .clone()
        .create(with_token(token, request))
        .await
        .unwrap();
    created.into_inner().session.unwrap().id
}

async fn set(app: &TestApp, token: Option<&str>, id: &str, key: &str) -> u64 {
    let request = pb::SetRequest {
        id: id.into(),
        upsert: HashMap::from([(key.into(), "1".into())]),
        ..Default::default()
    };
    let reply = app
        .client
        .clone()
        .set(with_token(token, request))
        .await
        .unwrap();
    reply.into_inner().session.unwrap().version
}

#[tokio::test]
async fn a_watch_of_ids_names_each_by_its_position_and_tells_every_change_and_end() {
    let app = spawn_app().await;
    let mut client = app.client.clone();
    let changing = create(&app, None, None).await;
    let rotating = create(&app, None, None).await;
    let flushing = create(&app, None, None).await;
    let revoking = create(&app, None, None).await;
    let expiring = create(&app, None, Some(60)).await;
    let unwatched = create(&app, None, None).await;
    let ids = [&changing, &rotating, &flushing, &revoking, &expiring].map(String::as_str);
    let (mut events, _) = watching(&app, None, &ids).await;

    // A change to a session nobody watches is no event: the next one is
    // the watched session's.
    set(&app, None, &unwatched, "a").await;
    let version = set(&app, None, &changing, "a").await;
    let event = next(&mut events).await;
    assert_eq!((event.index, event.handle.as_str()), (0, ""));
    assert_eq!(event.event, changed(version));

    client
        .rotate(pb::RotateRequest {
            id: rotating.clone(),
        })
        .await
        .unwrap();
    let event = next(&mut events).await;
    assert_eq!((event.index, event.event), (1, ended(Reason::Rotated)));

    client
        .flush(pb::FlushRequest {
            id: flushing.clone(),
        })
        .await
        .unwrap();
    let event = next(&mut events).await;
    assert_eq!((event.index, event.event), (2, ended(Reason::Flushed)));

    let user = pb::UserBinding {
        user_id: "u1".into(),
        ..Default::default()
    };
    client
        .bind_user(pb::BindUserRequest {
            id: revoking.clone(),
            user: Some(user),
        })
        .await
        .unwrap();
    client
        .revoke_user_sessions(pb::RevokeUserSessionsRequest {
            user_id: "u1".into(),
            except_id: String::new(),
        })
        .await
        .unwrap();
    let event = next(&mut events).await;
    assert_eq!((event.index, event.event), (3, ended(Reason::Revoked)));

    // The reaper reclaims it once its deadline passes on the test clock.
    app.clock.advance(Duration::from_secs(61));
    let event = next(&mut events).await;
    assert_eq!((event.index, event.event), (4, ended(Reason::Expired)));
}

#[tokio::test]
async fn a_namespace_watch_names_sessions_by_handle_never_by_id() {
    let app = spawn_app().await;
    let mut client = app.client.clone();
    let (mut events, _) = watching(&app, None, &[]).await;
    let id = create(&app, None, None).await;
    let user = pb::UserBinding {
        user_id: "u2".into(),
        ..Default::default()
    };
    client
        .bind_user(pb::BindUserRequest {
            id: id.clone(),
            user: Some(user),
        })
        .await
        .unwrap();
    let listed = client
        .list_user_sessions(pb::ListUserSessionsRequest {
            user_id: "u2".into(),
            current_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let handle = listed.sessions[0].handle.clone();

    let version = set(&app, None, &id, "a").await;
    let event = next(&mut events).await;
    assert_eq!(event.handle, handle);
    assert!(!event.handle.contains(&id));
    assert_eq!(event.event, changed(version));

    client
        .flush(pb::FlushRequest { id: id.clone() })
        .await
        .unwrap();
    let event = next(&mut events).await;
    assert_eq!(
        (event.handle.as_str(), event.event),
        (handle.as_str(), ended(Reason::Flushed))
    );
}

const SHOP: &str = "shop-token";
const BLOG_RO: &str = "blog-reader";
const BLOG: &str = "blog-token";

#[tokio::test]
async fn a_watcher_sees_its_own_namespace_only_and_a_read_only_token_may_watch() {
    let (app, _dir) = spawn_app_with_tokens(&[
        ("shop", SHOP, false),
        ("blog", BLOG_RO, true),
        ("blog", BLOG, false),
    ])
    .await;
    assert_eq!(
        watch(&app, None, &[]).await.err().unwrap().code(),
        Code::Unauthenticated
    );

    let shop = create(&app, Some(SHOP), None).await;
    let blog = create(&app, Some(BLOG), None).await;
    let (mut events, _) = watching(&app, Some(BLOG_RO), &[]).await;
    // The shop's session, even named by id, is another namespace's.
    let (mut by_id, _) = watching(&app, Some(BLOG_RO), &[&shop, &blog]).await;
    set(&app, Some(SHOP), &shop, "a").await;
    let version = set(&app, Some(BLOG), &blog, "a").await;
    assert_eq!(next(&mut events).await.event, changed(version));
    let event = next(&mut by_id).await;
    assert_eq!((event.index, event.event), (1, changed(version)));
}

/// The first event of a Watch by `token`: its resync.
async fn resync_of(app: &TestApp, token: Option<&str>) -> pb::WatchResync {
    let mut events = watch(app, token, &[]).await.unwrap();
    match next(&mut events).await.event {
        Some(Kind::Resync(r)) => r,
        other => panic!("the first event is not resync: {other:?}"),
    }
}

/// A handle as the proto tells clients to compute it from an id.
fn handle_of(namespace: &str, id: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    if !namespace.is_empty() {
        hash.update(namespace.as_bytes());
        hash.update([0u8]);
    }
    hash.update(id.as_bytes());
    hash.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn the_resync_names_the_callers_namespace_whose_handles_a_client_can_compute() {
    let (app, _dir) =
        spawn_app_with_tokens(&[("blog", BLOG, false), ("", "default-token", false)]).await;
    assert_eq!(resync_of(&app, Some(BLOG)).await.namespace, "blog");
    assert_eq!(resync_of(&app, Some("default-token")).await.namespace, "");

    for (namespace, token) in [("blog", BLOG), ("", "default-token")] {
        let (mut events, _) = watching(&app, Some(token), &[]).await;
        let id = create(&app, Some(token), None).await;
        set(&app, Some(token), &id, "a").await;
        let event = next(&mut events).await;
        assert_eq!(event.handle, handle_of(namespace, &id), "in {namespace:?}");
    }
}

#[tokio::test]
async fn a_subscriber_that_does_not_read_is_dropped_as_too_slow() {
    const SETS: usize = 50_000;
    let app = spawn_app_with(|config| config.listeners.watch_buffer = 8).await;
    let id = create(&app, None, None).await;
    let (mut events, _) = watching(&app, None, &[]).await;
    // Far more events than the buffer and HTTP/2's window hold together,
    // while the subscriber reads nothing.
    let parsed = SessionId::parse(&id).unwrap();
    for n in 0..SETS {
        let update = Update {
            upsert: HashMap::from([("n".to_string(), n.to_string())]),
            remove: vec![],
            expected_version: None,
        };
        app.store
            .set(&Namespace::DEFAULT, &parsed, update)
            .await
            .unwrap();
    }
    let mut received = 0;
    let dropped = loop {
        match events.message().await {
            Ok(Some(_)) => received += 1,
            Ok(None) => panic!("the stream ended without a status after {received} events"),
            Err(status) => break status,
        }
    };
    assert_eq!(dropped.code(), Code::ResourceExhausted);
    assert!(
        dropped.message().contains("subscriber too slow"),
        "{}",
        dropped.message()
    );
    assert!(dropped.message().contains("--watch-buffer"));
    assert!(received < SETS, "{received} events of {SETS}");
}

#[tokio::test]
async fn the_first_event_names_the_server_run_and_a_restarted_server_names_another() {
    let app = spawn_app().await;
    let (_one, epoch) = watching(&app, None, &[]).await;
    let (_two, same) = watching(&app, None, &[]).await;
    assert_eq!(epoch, same);
    assert_eq!(epoch.len(), 16);
    let restarted = spawn_app().await;
    let (_three, other) = watching(&restarted, None, &[]).await;
    assert_ne!(epoch, other);
}

#[tokio::test]
async fn a_watch_that_names_nothing_both_or_a_malformed_id_is_invalid() {
    let app = spawn_app().await;
    let id = create(&app, None, None).await;
    let mut client = app.client.clone();
    for (request, says) in [
        (
            pb::WatchRequest {
                ids: vec![],
                namespace: false,
            },
            "names the ids",
        ),
        (
            pb::WatchRequest {
                ids: vec![id.clone()],
                namespace: true,
            },
            "not both",
        ),
        (
            pb::WatchRequest {
                ids: vec![id.clone(), "short".into()],
                namespace: false,
            },
            "ids[1]",
        ),
    ] {
        let refused = client.watch(request).await.err().unwrap();
        assert_eq!(refused.code(), Code::InvalidArgument);
        assert!(refused.message().contains(says), "{}", refused.message());
    }
}

#[tokio::test]
async fn open_watches_end_unavailable_once_the_server_stops_accepting() {
    let app = spawn_app().await;
    let (mut events, _) = watching(&app, None, &[]).await;
    app.lifecycle.stop_accepting();
    let ended = events.message().await.unwrap_err();
    assert_eq!(ended.code(), Code::Unavailable);
    assert!(ended.message().contains("revalidate"));
}
