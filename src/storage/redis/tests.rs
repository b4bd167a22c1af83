//! The scripts against a real `redis-server` (started per test on a free
//! loopback port), on simulated time: each script takes sessiond's "now",
//! so deadlines are tested without sleeping. The behaviour every backend
//! shares is the conformance suite's; these are the Redis-only details.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::test_server::{self as redis_server, RedisServer};
use super::*;
use crate::metrics::Metrics;

pub(super) fn real_now() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

fn config(url: String) -> RedisConfig {
    RedisConfig {
        target: Target::Standalone(url),
        password: None,
        timeout: Duration::from_millis(500),
        ca: None,
    }
}

pub(super) async fn backend(
    server: &RedisServer,
    limits: Limits,
    timeouts: Timeouts,
) -> (Redis, Clock) {
    // Simulated time that starts at the real time, so that Redis's own
    // expiry (PEXPIRE, relative) stays sane.
    let clock = Clock::manual(real_now());
    let redis = Redis::connect(
        &config(server.url()),
        limits,
        timeouts,
        clock.clone(),
        &Metrics::new(),
    )
    .await
    .expect("connect");
    (redis, clock)
}

/// A backend whose sessions idle out after 640 s: a read slides in
/// granules of 10 s.
async fn granular_backend(server: &RedisServer) -> (Redis, Clock) {
    let timeouts = Timeouts {
        default_idle: Duration::from_secs(640),
        ..Timeouts::default()
    };
    backend(server, Limits::default(), timeouts).await
}

fn data(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn sorted(mut fields: Vec<(String, String)>) -> Vec<(String, String)> {
    fields.sort();
    fields
}

const NS: Namespace = Namespace::DEFAULT;

#[tokio::test]
async fn a_session_is_one_hash_named_by_its_digest_never_its_id() {
    let server = RedisServer::start();
    let (redis, _) = backend(&server, Limits::default(), Timeouts::default()).await;

    let info = redis
        .create(&NS, data(&[("user", "\"yuan\"")]), None)
        .await
        .unwrap();

    let keys = server.cli(&["--raw", "keys", "*"]);
    let expected = key(&info.id.digest_in(&NS));
    assert_eq!(keys.trim(), expected);
    assert!(!keys.contains(info.id.expose()), "the raw id is in Redis");
    assert!(expected.starts_with("sessiond:{") && expected.ends_with('}'));
    assert_eq!(server.cli(&["type", &expected]).trim(), "hash");
    let ttl: i64 = server.cli(&["pttl", &expected]).trim().parse().unwrap();
    let idle = Timeouts::default().default_idle.as_millis() as i64;
    assert!(ttl > idle - 60_000 && ttl <= idle, "PTTL {ttl}");
}

#[tokio::test]
async fn a_read_answers_the_data_and_slides_the_deadline() {
    let server = RedisServer::start();
    let timeouts = Timeouts {
        default_idle: Duration::from_secs(60),
        ..Timeouts::default()
    };
    let (redis, clock) = backend(&server, Limits::default(), timeouts).await;
    let created = redis
        .create(&NS, data(&[("a", "1"), ("b", "{\"x\":[1,2]}")]), None)
        .await
        .unwrap();

    clock.advance(Duration::from_secs(40));
    let found = redis
        .read(&NS, created.id.clone(), vec![], true)
        .await
        .unwrap();
    assert_eq!(
        sorted(found.fields),
        vec![
            ("a".into(), "1".into()),
            ("b".into(), "{\"x\":[1,2]}".into())
        ]
    );
    assert_eq!(found.info.expires_ms, created.created_ms + 100_000);
    assert_eq!(found.info.version, 1);

    clock.advance(Duration::from_secs(40));
    let some = redis
        .read(
            &NS,
            created.id.clone(),
            vec!["b".into(), "zz".into()],
            false,
        )
        .await
        .unwrap();
    assert_eq!(some.fields, vec![("b".into(), "{\"x\":[1,2]}".into())]);
    assert_eq!(
        some.info.expires_ms,
        created.created_ms + 100_000,
        "no_touch slid"
    );

    clock.advance(Duration::from_secs(21));
    let gone = redis.read(&NS, created.id.clone(), vec![], true).await;
    assert_eq!(gone.unwrap_err(), SessionError::NotFound);
    assert_eq!(
        server.cli(&["dbsize"]).trim(),
        "0",
        "an expired session is deleted"
    );
}

#[tokio::test]
async fn a_read_slides_in_granules_and_writes_nothing_in_between_while_touch_is_exact() {
    let server = RedisServer::start();
    let (redis, clock) = granular_backend(&server).await;
    let created = redis.create(&NS, data(&[("a", "1")]), None).await.unwrap();
    let hash = key(&created.id.digest());
    let stored = || async {
        let mut hget = redis::cmd("HGET");
        hget.arg(&hash).arg(b"\0d");
        redis.connection.command(&hget).await.unwrap()
    };
    let before = stored().await;

    clock.advance(Duration::from_secs(9));
    let near = redis
        .read(&NS, created.id.clone(), vec![], true)
        .await
        .unwrap();
    assert_eq!(
        near.info.expires_ms, created.expires_ms,
        "not a granule yet"
    );
    assert_eq!(stored().await, before, "nothing written");

    clock.advance(Duration::from_secs(1));
    let far = redis
        .read(&NS, created.id.clone(), vec![], true)
        .await
        .unwrap();
    assert_eq!(far.info.expires_ms, clock.now_ms() + 640_000);
    assert_ne!(stored().await, before);
    let ttl: u64 = server.cli(&["pttl", &hash]).trim().parse().unwrap();
    assert!(ttl > 630_000 && ttl <= 640_000, "re-armed: {ttl}");

    clock.advance(Duration::from_secs(1));
    let touched = redis.touch(&NS, &created.id, None).await.unwrap();
    assert_eq!(
        touched.expires_ms,
        clock.now_ms() + 640_000,
        "Touch is exact"
    );
}

/// How many calls of `command` succeeded, from `INFO commandstats` (a
/// script's first EVALSHA fails NOSCRIPT and is sent again once loaded).
fn calls(server: &RedisServer, command: &str) -> u64 {
    let stats = server.cli(&["info", "commandstats"]);
    let prefix = format!("cmdstat_{command}:");
    let Some(line) = stats.lines().find_map(|line| line.strip_prefix(&prefix)) else {
        return 0;
    };
    let figure = |name: &str| -> u64 {
        line.split(',')
            .find_map(|kv| kv.trim().strip_prefix(name))
            .map_or(0, |n| n.parse().unwrap())
    };
    figure("calls=") - figure("failed_calls=")
}

#[tokio::test]
async fn a_read_that_writes_nothing_runs_no_script_and_one_due_to_slide_does() {
    let server = RedisServer::start();
    let (redis, clock) = granular_backend(&server).await;
    let created = redis
        .create(&NS, data(&[("a", "1"), ("b", "2")]), None)
        .await
        .unwrap();
    server.cli(&["config", "resetstat"]);
    clock.advance(Duration::from_secs(5));
    let all = redis
        .read(&NS, created.id.clone(), vec![], true)
        .await
        .unwrap();
    let named = redis
        .read(&NS, created.id.clone(), vec!["b".into(), "zz".into()], true)
        .await
        .unwrap();
    assert_eq!(
        sorted(all.fields),
        sorted(vec![("a".into(), "1".into()), ("b".into(), "2".into())])
    );
    assert_eq!(named.fields, vec![("b".into(), "2".into())]);
    assert_eq!(all.info.expires_ms, created.expires_ms);
    assert_eq!(
        (
            calls(&server, "hgetall"),
            calls(&server, "hmget"),
            calls(&server, "evalsha")
        ),
        (1, 1, 0),
        "plain reads, no script"
    );

    // A granule later the slide is due: the script runs and slides.
    clock.advance(Duration::from_secs(5));
    let slid = redis
        .read(&NS, created.id.clone(), vec![], true)
        .await
        .unwrap();
    assert_eq!(slid.info.expires_ms, clock.now_ms() + 640_000);
    assert_eq!(calls(&server, "evalsha"), 1);

    // Past the deadline the script runs too, and deletes the hash.
    clock.advance(Duration::from_secs(641));
    let gone = redis.read(&NS, created.id.clone(), vec![], false).await;
    assert!(matches!(gone, Err(SessionError::NotFound)), "{gone:?}");
    assert_eq!(calls(&server, "evalsha"), 2);
    assert_eq!(
        server.cli(&["exists", &key(&created.id.digest())]).trim(),
        "0"
    );
}

#[tokio::test]
async fn the_absolute_deadline_caps_every_slide() {
    let server = RedisServer::start();
    let timeouts = Timeouts {
        default_idle: Duration::from_secs(60),
        absolute: Some(Duration::from_secs(90)),
        ..Timeouts::default()
    };
    let (redis, clock) = backend(&server, Limits::default(), timeouts).await;
    let created = redis.create(&NS, HashMap::new(), None).await.unwrap();

    clock.advance(Duration::from_secs(50));
    let touched = redis.touch(&NS, &created.id, None).await.unwrap();
    assert_eq!(touched.expires_ms, created.created_ms + 90_000);
    let ttl: i64 = server
        .cli(&["pttl", &key(&created.id.digest_in(&NS))])
        .trim()
        .parse()
        .unwrap();
    assert!(
        ttl <= 40_000 && ttl > 30_000,
        "PTTL {ttl} is not the absolute cap"
    );

    clock.advance(Duration::from_secs(40));
    assert_eq!(
        redis.touch(&NS, &created.id, None).await.unwrap_err(),
        SessionError::NotFound
    );
}

#[tokio::test]
async fn a_set_checks_versions_and_limits_and_changes_nothing_when_refused() {
    let server = RedisServer::start();
    let limits = Limits {
        max_keys: 3,
        max_session_bytes: 40,
        ..Limits::default()
    };
    let (redis, _) = backend(&server, limits, Timeouts::default()).await;
    let id = redis
        .create(&NS, data(&[("a", "1")]), None)
        .await
        .unwrap()
        .id;
    let update = |up: &[(&str, &str)], rm: &[&str], v: Option<u64>| Update {
        upsert: data(up),
        remove: rm.iter().map(|s| s.to_string()).collect(),
        expected_version: v,
    };

    let (info, _) = redis
        .set(&NS, &id, update(&[("b", "2")], &["a"], Some(1)), &[], false)
        .await
        .unwrap();
    assert_eq!(info.version, 2);

    let stale = redis.set(&NS, &id, update(&[("c", "3")], &[], Some(1)), &[], false);
    assert_eq!(
        stale.await.unwrap_err(),
        SessionError::VersionMismatch {
            expected: 1,
            actual: 2
        }
    );
    let many = update(&[("c", "3"), ("d", "4"), ("e", "5")], &[], None);
    let err = redis.set(&NS, &id, many, &[], false).await.unwrap_err();
    assert!(
        matches!(
            err,
            SessionError::LimitExceeded {
                limit: Limit::Keys,
                ..
            }
        ),
        "{err:?}"
    );
    let big = update(&[("c", &"9".repeat(40))], &[], None);
    let err = redis.set(&NS, &id, big, &[], false).await.unwrap_err();
    assert!(
        matches!(
            err,
            SessionError::LimitExceeded {
                limit: Limit::SessionBytes,
                ..
            }
        ),
        "{err:?}"
    );

    let found = redis.read(&NS, id.clone(), vec![], false).await.unwrap();
    assert_eq!(found.fields, vec![("b".into(), "2".into())]);
    assert_eq!(found.info.version, 2, "a refused set changed the version");

    // Replacing a value counts its new size, not both; removing an absent
    // key changes nothing, not even the version.
    let (info, all) = redis
        .set(
            &NS,
            &id,
            update(&[("b", &"7".repeat(38))], &["nope"], None),
            &[],
            true,
        )
        .await
        .unwrap();
    assert_eq!(info.version, 3);
    assert_eq!(all, vec![("b".into(), "7".repeat(38))]);
    let (info, _) = redis
        .set(&NS, &id, update(&[], &["nope"], None), &[], false)
        .await
        .unwrap();
    assert_eq!(info.version, 3);
    let accepted = redis.set(&NS, &id, update(&[("b", "1")], &[], None), &[9, 3], false);
    assert_eq!(
        accepted.await.unwrap().0.version,
        4,
        "one of the accepted versions"
    );
}

#[tokio::test]
async fn metadata_cannot_be_named_as_a_key() {
    let server = RedisServer::start();
    let (redis, _) = backend(&server, Limits::default(), Timeouts::default()).await;
    let id = redis.create(&NS, HashMap::new(), None).await.unwrap().id;
    let read = redis.read(&NS, id.clone(), vec!["\0v".into()], false).await;
    assert!(matches!(read.unwrap_err(), SessionError::InvalidKey(_)));
    let update = Update {
        upsert: data(&[("\0v", "1")]),
        ..Update::default()
    };
    let set = redis.set(&NS, &id, update, &[], false).await;
    assert!(matches!(set.unwrap_err(), SessionError::InvalidKey(_)));
}

#[tokio::test]
async fn flush_is_idempotent_and_touch_may_shorten_the_idle_timeout() {
    let server = RedisServer::start();
    let (redis, clock) = backend(&server, Limits::default(), Timeouts::default()).await;
    let id = redis.create(&NS, HashMap::new(), None).await.unwrap().id;

    let touched = redis
        .touch(&NS, &id, Some(Duration::from_secs(5)))
        .await
        .unwrap();
    assert_eq!(touched.idle_timeout, Duration::from_secs(5));
    assert_eq!(touched.expires_ms, clock.now_ms() + 5_000);
    let out_of_bounds = redis.touch(&NS, &id, Some(Duration::from_millis(1))).await;
    assert!(matches!(
        out_of_bounds.unwrap_err(),
        SessionError::IdleTimeoutOutOfBounds { .. }
    ));

    assert!(redis.flush(&NS, &id).await.unwrap());
    assert!(!redis.flush(&NS, &id).await.unwrap());
    assert_eq!(
        redis.read(&NS, id, vec![], false).await.unwrap_err(),
        SessionError::NotFound
    );
}

#[tokio::test]
async fn a_session_is_found_in_its_own_namespace_only() {
    let server = RedisServer::start();
    let (redis, _) = backend(&server, Limits::default(), Timeouts::default()).await;
    let shop = Namespace::parse("shop").unwrap();
    let id = redis
        .create(&shop, data(&[("a", "1")]), None)
        .await
        .unwrap()
        .id;
    assert!(redis.read(&shop, id.clone(), vec![], false).await.is_ok());
    let elsewhere = redis.read(&NS, id.clone(), vec![], false).await;
    assert_eq!(elsewhere.unwrap_err(), SessionError::NotFound);
    assert!(!redis.flush(&NS, &id).await.unwrap());
}

#[tokio::test]
async fn rotate_moves_the_data_and_the_old_id_is_gone() {
    let server = RedisServer::start();
    let (redis, _) = backend(&server, Limits::default(), Timeouts::default()).await;
    let old = redis
        .create(&NS, data(&[("cart", "[1]")]), None)
        .await
        .unwrap();

    let new = redis.rotate(&NS, &old.id).await.unwrap();

    assert_ne!(new.id, old.id);
    assert_eq!(new.version, 2);
    assert_eq!(new.created_ms, old.created_ms);
    let found = redis
        .read(&NS, new.id.clone(), vec![], false)
        .await
        .unwrap();
    assert_eq!(found.fields, vec![("cart".into(), "[1]".into())]);
    let gone = redis.read(&NS, old.id.clone(), vec![], false).await;
    assert_eq!(gone.unwrap_err(), SessionError::NotFound);
    assert_eq!(
        server.cli(&["dbsize"]).trim(),
        "1",
        "the old hash is deleted"
    );
    assert_eq!(
        redis.rotate(&NS, &old.id).await.unwrap_err(),
        SessionError::NotFound
    );
}

/// sessiond dies after Rotate's first two steps: the old id is held (not
/// usable) only until the hold runs out, then it is the session again,
/// unchanged; the copy left behind is deleted by the next Rotate.
#[tokio::test]
async fn a_rotate_that_dies_half_way_loses_nothing() {
    let server = RedisServer::start();
    let (redis, clock) = backend(&server, Limits::default(), Timeouts::default()).await;
    let old = redis
        .create(&NS, data(&[("cart", "[1]")]), None)
        .await
        .unwrap();
    let old_key = key(&old.id.digest_in(&NS));
    let orphan_id = SessionId::generate();
    let orphan = key(&orphan_id.digest_in(&NS));

    let fields = redis.rotate_begin(&old_key, &orphan).await.unwrap();
    redis
        .rotate_copy(&orphan, fields)
        .await
        .unwrap()
        .expect("copied");
    // ... and sessiond is gone: step 3 never runs, no one learns the new id.

    let held = redis.read(&NS, old.id.clone(), vec![], false).await;
    assert_eq!(
        held.unwrap_err(),
        SessionError::NotFound,
        "usable while held"
    );
    assert!(
        !redis.flush(&NS, &old.id).await.unwrap(),
        "a held session is not flushed"
    );

    clock.advance(redis.rotation_hold());
    let back = redis
        .read(&NS, old.id.clone(), vec![], false)
        .await
        .unwrap();
    assert_eq!(back.fields, vec![("cart".into(), "[1]".into())]);
    assert_eq!(back.info.version, old.version);
    assert_eq!(server.cli(&["exists", &orphan]).trim(), "1");

    let rotated = redis.rotate(&NS, &old.id).await.unwrap();
    assert_eq!(
        server.cli(&["exists", &orphan]).trim(),
        "0",
        "the orphan copy stays"
    );
    let found = redis.read(&NS, rotated.id, vec![], false).await.unwrap();
    assert_eq!(found.fields, vec![("cart".into(), "[1]".into())]);
    assert_eq!(server.cli(&["dbsize"]).trim(), "1");
}

/// A Rotate slower than its hold finds the session taken back and fails,
/// leaving the old id working and no copy behind.
#[tokio::test]
async fn a_rotate_overtaken_by_its_hold_fails_and_leaves_the_old_id() {
    let server = RedisServer::start();
    let (redis, clock) = backend(&server, Limits::default(), Timeouts::default()).await;
    let old = redis.create(&NS, data(&[("a", "1")]), None).await.unwrap();
    let old_key = key(&old.id.digest_in(&NS));
    let slow = key(&SessionId::generate().digest_in(&NS));

    let fields = redis.rotate_begin(&old_key, &slow).await.unwrap();
    clock.advance(redis.rotation_hold());
    let other = redis.rotate(&NS, &old.id).await.unwrap();
    assert!(redis.rotate_copy(&slow, fields).await.unwrap().is_some());
    // The slow Rotate's last step finds its hold gone.
    assert!(!redis.rotate_end(&old_key, &slow, true).await.unwrap());
    assert!(redis.read(&NS, other.id, vec![], false).await.is_ok());
}

#[tokio::test]
async fn scripts_flushed_from_the_server_are_loaded_again() {
    let server = RedisServer::start();
    let (redis, _) = backend(&server, Limits::default(), Timeouts::default()).await;
    redis.load_scripts().await.unwrap();
    let id = redis
        .create(&NS, data(&[("a", "1")]), None)
        .await
        .unwrap()
        .id;

    assert_eq!(server.cli(&["script", "flush"]).trim(), "OK");

    let found = redis.read(&NS, id, vec![], true).await.unwrap();
    assert_eq!(found.fields, vec![("a".into(), "1".into())]);
}

#[tokio::test]
async fn an_unreachable_redis_answers_unavailable_within_the_timeout() {
    let mut server = RedisServer::start();
    let (redis, _) = backend(&server, Limits::default(), Timeouts::default()).await;
    let id = redis.create(&NS, HashMap::new(), None).await.unwrap().id;
    server.kill();

    let started = Instant::now();
    let err = redis.read(&NS, id.clone(), vec![], true).await.unwrap_err();
    assert!(matches!(err, SessionError::Backend(_)), "{err:?}");
    let err = redis.create(&NS, HashMap::new(), None).await.unwrap_err();
    assert!(matches!(err, SessionError::Backend(_)), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(redis.ping().await.is_err());
}

/// Three masters on loopback: every operation follows its session's slot
/// (MOVED), and Rotate moves sessions between slots on different nodes.
#[tokio::test]
async fn on_a_cluster_sessions_live_in_their_slots_and_rotate_across_them() {
    let cluster = redis_server::RedisCluster::start();
    let config = RedisConfig {
        target: Target::Cluster(cluster.seeds()),
        ..config(String::new())
    };
    let clock = Clock::manual(real_now());
    let redis = Redis::connect(
        &config,
        Limits::default(),
        Timeouts::default(),
        clock,
        &Metrics::new(),
    )
    .await
    .expect("connect to the cluster");
    redis.ping().await.unwrap();

    let mut ids = Vec::new();
    for n in 0..12 {
        let value = n.to_string();
        let info = redis
            .create(&NS, data(&[("n", &value)]), None)
            .await
            .unwrap();
        ids.push((info.id, value));
    }
    let per_node: Vec<usize> = cluster
        .nodes
        .iter()
        .map(|node| node.cli(&["dbsize"]).trim().parse().unwrap())
        .collect();
    assert_eq!(per_node.iter().sum::<usize>(), 12);
    assert!(
        per_node.iter().filter(|&&n| n > 0).count() >= 2,
        "{per_node:?}"
    );

    for (id, value) in &ids {
        let update = Update {
            upsert: data(&[("m", value)]),
            ..Update::default()
        };
        redis.set(&NS, id, update, &[], false).await.unwrap();
        let rotated = redis.rotate(&NS, id).await.unwrap();
        let gone = redis.read(&NS, id.clone(), vec![], false).await;
        assert_eq!(gone.unwrap_err(), SessionError::NotFound);
        let found = redis
            .read(&NS, rotated.id.clone(), vec![], true)
            .await
            .unwrap();
        assert_eq!(
            sorted(found.fields),
            vec![("m".into(), value.clone()), ("n".into(), value.clone())]
        );
        assert_eq!(found.info.version, 3);
        assert!(redis.flush(&NS, &rotated.id).await.unwrap());
    }
    let left: usize = cluster
        .nodes
        .iter()
        .map(|node| node.cli(&["dbsize"]).trim().parse::<usize>().unwrap())
        .sum();
    assert_eq!(left, 0);
}

/// A Redis that accepts connections and never answers (hung, or a network
/// that drops replies): every call fails within the call timeout.
#[tokio::test]
async fn a_redis_that_never_answers_fails_within_the_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://{}", listener.local_addr().unwrap());
    let held = std::thread::spawn(move || {
        // Accepted and kept open, never read from or written to.
        listener.incoming().take(4).flatten().collect::<Vec<_>>()
    });
    let clock = Clock::manual(real_now());
    let limits = Limits::default();
    let redis = Redis::standalone(
        &config(url),
        limits,
        Timeouts::default(),
        clock,
        &Metrics::new(),
    )
    .unwrap();

    let started = Instant::now();
    let err = redis.create(&NS, HashMap::new(), None).await.unwrap_err();
    assert!(matches!(err, SessionError::Backend(_)), "{err:?}");
    assert!(redis.ping().await.is_err());
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_secs(3),
        "{waited:?} for two calls of 500 ms"
    );
    drop(held);
}
