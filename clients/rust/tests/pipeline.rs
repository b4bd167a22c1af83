//! The client against a real sessiond started in this process on
//! 127.0.0.1:0: concurrent calls coalesced onto one Pipeline stream, a
//! failure confined to its own call, the token, and the stream ending.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{create, requests, serve};
use sessiond::auth::hash_token_line;
use sessiond::session::Namespace;
use sessiond_client::{pb, Client};
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_from_many_tasks_share_one_pipeline_and_each_gets_its_own_answer() {
    let server = serve(|_| {}).await;
    let client = Client::connect(server.url.clone()).await.unwrap();
    let ids: Vec<String> = {
        let mut ids = Vec::new();
        for _ in 0..8 {
            ids.push(create(&client).await);
        }
        ids
    };
    let pipeline = client.pipeline().await.unwrap();
    let mut tasks = Vec::new();
    for n in 0..200usize {
        let (pipeline, id) = (pipeline.clone(), ids[n % ids.len()].clone());
        tasks.push(tokio::spawn(async move {
            let set = pb::SetRequest {
                id: id.clone(),
                upsert: HashMap::from([(format!("k{n}"), n.to_string())]),
                ..Default::default()
            };
            pipeline.set(set).await.unwrap();
            let read = pipeline.get(id, vec![format!("k{n}")]).await.unwrap();
            assert_eq!(read.data[&format!("k{n}")], n.to_string());
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    // Every call went over the stream: none was a unary Get or Set.
    assert_eq!(requests(&server.metrics, "Pipeline/Get"), 200);
    assert_eq!(requests(&server.metrics, "Pipeline/Set"), 200);
    assert_eq!(requests(&server.metrics, "Get"), 0);
    assert_eq!(requests(&server.metrics, "Set"), 0);
}

#[tokio::test]
async fn a_failed_call_fails_alone_with_its_status() {
    let server = serve(|_| {}).await;
    let client = Client::connect(server.url.clone()).await.unwrap();
    let id = create(&client).await;
    let pipeline = client.pipeline().await.unwrap();
    let missing = pipeline.get("a".repeat(32), vec![]).await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let malformed = pipeline.flush("short".into()).await.unwrap_err();
    assert_eq!(malformed.code(), Code::InvalidArgument);
    assert_eq!(
        pipeline.get(id.clone(), vec![]).await.unwrap().data["user"],
        "\"yuan\""
    );
    assert!(pipeline.flush(id.clone()).await.unwrap());
    assert!(!pipeline.flush(id).await.unwrap());
    assert!(!pipeline.is_closed());
}

#[tokio::test]
async fn the_token_opens_the_stream_in_its_namespace() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens");
    let shop = Namespace::parse("shop").unwrap();
    std::fs::write(&path, hash_token_line(&shop, "shop-token", false) + "\n").unwrap();
    let server = serve(|c| c.access.tokens_file = Some(path.clone())).await;
    let anonymous = Client::connect(server.url.clone()).await.unwrap();
    let refused = anonymous.pipeline().await.err().unwrap();
    assert_eq!(refused.code(), Code::Unauthenticated);
    let client = anonymous.with_token("shop-token").unwrap();
    let id = create(&client).await;
    let pipeline = client.pipeline().await.unwrap();
    assert!(pipeline.get(id, vec![]).await.is_ok());
}

#[tokio::test]
async fn once_the_server_stops_the_handle_fails_every_call_with_the_status() {
    let mut server = serve(|c| c.listeners.shutdown_grace = Duration::from_secs(5)).await;
    let client = Client::connect(server.url.clone()).await.unwrap();
    let id = create(&client).await;
    let pipeline = client.pipeline().await.unwrap();
    assert!(pipeline.get(id.clone(), vec![]).await.is_ok());
    let _ = server.stop.take().unwrap().send(());
    server.done.await.unwrap().unwrap();
    let failed = pipeline.get(id, vec![]).await.unwrap_err();
    assert_eq!(failed.code(), Code::Unavailable, "{failed:?}");
    assert!(pipeline.is_closed());
}

#[tokio::test]
async fn a_watch_starts_with_resync_and_tells_a_change_made_through_the_pipeline() {
    use sessiond_client::pb::watch_event::Event;
    let server = serve(|_| {}).await;
    let client = Client::connect(server.url.clone()).await.unwrap();
    let id = create(&client).await;
    let mut events = client.watch(Some(vec![id.clone()])).await.unwrap();
    let first = events.message().await.unwrap().unwrap();
    assert!(matches!(first.event, Some(Event::Resync(_))), "{first:?}");
    let pipeline = client.pipeline().await.unwrap();
    let set = pb::SetRequest {
        id,
        upsert: HashMap::from([("a".into(), "1".into())]),
        ..Default::default()
    };
    let version = pipeline.set(set).await.unwrap().session.unwrap().version;
    let event = events.message().await.unwrap().unwrap();
    assert_eq!(event.index, 0);
    assert_eq!(
        event.event,
        Some(Event::Changed(pb::WatchChanged { version }))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_past_the_servers_in_flight_cap_wait_for_replies_instead_of_being_refused() {
    // Sets wait for the journal's fsync, so requests pile up in the server.
    let dir = tempfile::tempdir().unwrap();
    let server = serve(|c| {
        c.listeners.max_pipeline_in_flight = 4;
        c.durability.data_dir = Some(dir.path().to_path_buf());
        c.durability.fsync = sessiond::storage::durable::FsyncPolicy::Always;
    })
    .await;
    let client = Client::connect(server.url.clone())
        .await
        .unwrap()
        .with_max_in_flight(4);
    let id = create(&client).await;
    let pipeline = client.pipeline().await.unwrap();
    let calls: Vec<_> = (0..200)
        .map(|n| {
            let (pipeline, id) = (pipeline.clone(), id.clone());
            let set = pb::SetRequest {
                id,
                upsert: HashMap::from([(format!("k{n}"), "1".into())]),
                ..Default::default()
            };
            tokio::spawn(async move { pipeline.set(set).await.map(|_| ()) })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(requests(&server.metrics, "Pipeline/Set"), 200);
}
