//! The near cache against a real sessiond started in this process: a hit
//! costs no RPC, a change, flush, rotate or revoke made by another client
//! evicts within one event, this process reads its own writes at once, the
//! bounds hold, hits slide the deadline, and the Watch ending empties it.

mod common;

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use common::{create, requests, serve};
use sessiond::auth::hash_token_line;
use sessiond::session::Namespace;
use sessiond_client::{pb, Client, NearCache, NearCacheConfig};
use tonic::Code;

/// A near cache on a client of its own, live.
async fn near_cache(client: &Client, config: NearCacheConfig) -> NearCache {
    let cache = client.near_cache(config).await.unwrap();
    bounded(cache.ready()).await.unwrap();
    cache
}

/// Waits for an event to take effect: a bound, not a measure (the event
/// comes in well under a millisecond on loopback).
async fn bounded<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("did not happen within 10 s")
}

/// Resolves once `id` has left the cache.
async fn evicted(cache: &NearCache, id: &str) {
    bounded(cache.evicted(id)).await
}

fn upsert(id: &str, key: &str, value: &str) -> pb::SetRequest {
    pb::SetRequest {
        id: id.into(),
        upsert: HashMap::from([(key.into(), value.into())]),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hit_costs_no_rpc_and_answers_what_the_server_answered() {
    let server = serve(|_| {}).await;
    let client = Client::connect(server.url.clone()).await.unwrap();
    let id = create(&client).await;
    let cache = near_cache(&client, NearCacheConfig::default()).await;

    let first = cache.get(&id).await.unwrap();
    assert_eq!(requests(&server.metrics, "Pipeline/Get"), 1);
    assert!(cache.is_cached(&id));
    for _ in 0..100 {
        let again = cache.get(&id).await.unwrap();
        assert_eq!(again, first);
    }
    assert_eq!(first.data["user"], "\"yuan\"");
    assert_eq!(requests(&server.metrics, "Pipeline/Get"), 1);
    assert_eq!(requests(&server.metrics, "Get"), 0);
    let stats = cache.stats();
    assert_eq!((stats.hits, stats.misses), (100, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_made_by_another_client_evicts_within_one_event_in_a_tokens_namespace() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens");
    let shop = Namespace::parse("shop").unwrap();
    std::fs::write(&path, hash_token_line(&shop, "shop-token", false) + "\n").unwrap();
    let server = serve(|c| c.access.tokens_file = Some(path.clone())).await;
    let ours = Client::connect(server.url.clone())
        .await
        .unwrap()
        .with_token("shop-token")
        .unwrap();
    let theirs = Client::connect(server.url.clone())
        .await
        .unwrap()
        .with_token("shop-token")
        .unwrap();
    let id = create(&ours).await;
    let other = create(&ours).await;
    let cache = near_cache(&ours, NearCacheConfig::default()).await;
    cache.get(&id).await.unwrap();
    cache.get(&other).await.unwrap();

    let elsewhere = theirs.pipeline().await.unwrap();
    let version = elsewhere
        .set(upsert(&id, "cart", "[1]"))
        .await
        .unwrap()
        .session
        .unwrap()
        .version;
    evicted(&cache, &id).await;
    // Only the session that changed left.
    assert!(cache.is_cached(&other));
    let read = cache.get(&id).await.unwrap();
    assert_eq!(read.data["cart"], "[1]");
    assert_eq!(read.session.as_ref().unwrap().version, version);
    assert!(cache.is_cached(&id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flush_rotate_or_revoke_elsewhere_evicts_and_the_old_id_then_reads_not_found() {
    let server = serve(|_| {}).await;
    let client = Client::connect(server.url.clone()).await.unwrap();
    let theirs = Client::connect(server.url.clone()).await.unwrap();
    let (flushed, rotated, revoked) = (
        create(&client).await,
        create(&client).await,
        create(&client).await,
    );
    let cache = near_cache(&client, NearCacheConfig::default()).await;
    for id in [&flushed, &rotated, &revoked] {
        cache.get(id).await.unwrap();
    }
    let mut raw = theirs.raw();

    let flush = pb::FlushRequest {
        id: flushed.clone(),
    };
    raw.flush(theirs.request(flush)).await.unwrap();
    evicted(&cache, &flushed).await;

    let rotate = pb::RotateRequest {
        id: rotated.clone(),
    };
    let new_id = raw
        .rotate(theirs.request(rotate))
        .await
        .unwrap()
        .into_inner()
        .session
        .unwrap()
        .id;
    evicted(&cache, &rotated).await;

    let user = pb::UserBinding {
        user_id: "yuan".into(),
        ..Default::default()
    };
    let bind = pb::BindUserRequest {
        id: revoked.clone(),
        user: Some(user),
    };
    raw.bind_user(theirs.request(bind)).await.unwrap();
    let revoke = pb::RevokeUserSessionsRequest {
        user_id: "yuan".into(),
        except_id: String::new(),
    };
    raw.revoke_user_sessions(theirs.request(revoke))
        .await
        .unwrap();
    evicted(&cache, &revoked).await;

    for id in [&flushed, &rotated, &revoked] {
        assert_eq!(cache.get(id).await.unwrap_err().code(), Code::NotFound);
    }
    assert_eq!(cache.get(&new_id).await.unwrap().data["user"], "\"yuan\"");
    assert!(cache.stats().events >= 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn this_process_reads_its_own_writes_without_waiting_for_their_event() {
    let server = serve(|_| {}).await;
    let client = Client::connect(server.url.clone()).await.unwrap();
    let id = create(&client).await;
    let cache = near_cache(&client, NearCacheConfig::default()).await;
    for n in 0..50 {
        cache.get(&id).await.unwrap();
        cache.set(upsert(&id, "n", &n.to_string())).await.unwrap();
        assert_eq!(cache.get(&id).await.unwrap().data["n"], n.to_string());
    }
    let touch = pb::TouchRequest {
        id: id.clone(),
        idle_timeout: Some(prost_types::Duration {
            seconds: 600,
            nanos: 0,
        }),
    };
    cache.get(&id).await.unwrap();
    cache.touch(touch).await.unwrap();
    let info = cache.get(&id).await.unwrap().session.clone().unwrap();
    assert_eq!(info.idle_timeout.unwrap().seconds, 600);

    assert!(cache.flush(&id).await.unwrap());
    assert_eq!(cache.get(&id).await.unwrap_err().code(), Code::NotFound);
    assert!(!cache.is_cached(&id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_holds_at_most_its_bounds_dropping_the_least_recently_read() {
    let server = serve(|_| {}).await;
    let client = Client::connect(server.url.clone()).await.unwrap();
    let (a, b, c) = (
        create(&client).await,
        create(&client).await,
        create(&client).await,
    );
    let config = NearCacheConfig {
        max_entries: 2,
        ..Default::default()
    };
    let cache = near_cache(&client, config).await;
    cache.get(&a).await.unwrap();
    cache.get(&b).await.unwrap();
    cache.get(&a).await.unwrap();
    cache.get(&c).await.unwrap();
    assert_eq!(cache.len(), 2);
    assert!(cache.is_cached(&a) && cache.is_cached(&c));
    assert!(!cache.is_cached(&b));
    assert_eq!(cache.stats().evictions, 1);

    let big = create(&client).await;
    cache
        .set(upsert(&big, "blob", &format!("\"{}\"", "x".repeat(4096))))
        .await
        .unwrap();
    let small = NearCacheConfig {
        max_bytes: 1024,
        ..Default::default()
    };
    let cache = near_cache(&client, small).await;
    assert_eq!(cache.get(&big).await.unwrap().data["blob"].len(), 4098);
    assert!(!cache.is_cached(&big));
    cache.get(&a).await.unwrap();
    assert!(cache.is_cached(&a));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hit_due_to_slide_touches_the_session_in_the_background() {
    let server = serve(|_| {}).await;
    let client = Client::connect(server.url.clone()).await.unwrap();
    let id = create(&client).await;
    let config = NearCacheConfig {
        slide_interval: Some(Duration::ZERO),
        ..Default::default()
    };
    let cache = near_cache(&client, config).await;
    cache.get(&id).await.unwrap();
    cache.get(&id).await.unwrap();
    bounded(async {
        while requests(&server.metrics, "Pipeline/Touch") == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    // The default interval (a second at least) slides no hit made at once.
    let lazy = near_cache(&client, NearCacheConfig::default()).await;
    lazy.get(&id).await.unwrap();
    lazy.get(&id).await.unwrap();
    assert_eq!(lazy.stats().hits, 1);
    assert_eq!(requests(&server.metrics, "Pipeline/Touch"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_the_watch_ends_the_cache_empties_and_serves_nothing_it_held() {
    let mut server = serve(|c| c.listeners.shutdown_grace = Duration::from_secs(5)).await;
    let client = Client::connect(server.url.clone()).await.unwrap();
    let id = create(&client).await;
    let cache = near_cache(&client, NearCacheConfig::default()).await;
    cache.get(&id).await.unwrap();
    assert!(cache.is_cached(&id));
    let _ = server.stop.take().unwrap().send(());
    server.done.await.unwrap().unwrap();
    // The stream's end drops everything, the one session with it.
    evicted(&cache, &id).await;
    assert!(cache.is_empty());
    let failed = cache.get(&id).await.unwrap_err();
    assert_eq!(failed.code(), Code::Unavailable, "{failed:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_loop_of_hits_lets_the_runtimes_other_tasks_run() {
    let server = serve(|_| {}).await;
    let client = Client::connect(server.url.clone()).await.unwrap();
    let id = create(&client).await;
    let cache = near_cache(&client, NearCacheConfig::default()).await;
    cache.get(&id).await.unwrap();
    let ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = ran.clone();
    tokio::spawn(async move { flag.store(true, std::sync::atomic::Ordering::Relaxed) });
    // One thread: the other task runs only if a hit yields now and then.
    let mut hits = 0;
    while !ran.load(std::sync::atomic::Ordering::Relaxed) && hits < 1_000_000 {
        cache.get(&id).await.unwrap();
        hits += 1;
    }
    assert!(
        ran.load(std::sync::atomic::Ordering::Relaxed),
        "{hits} hits never yielded"
    );
}
