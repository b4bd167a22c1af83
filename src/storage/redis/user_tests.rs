//! A user's index on a real `redis-server`: the Redis-only details the
//! conformance cases cannot see (Redis's own expiry, members left stale
//! by a sessiond that died between two steps, the index's own expiry).
//! Time is simulated (every script takes sessiond's "now"), except for
//! Redis's own expiry, which is real and kept to tens of milliseconds.

use std::time::{Duration, Instant};

use super::test_server::RedisServer;
use super::users::user_key;
use super::*;
use crate::session::{Binding, Handle, PerUserPolicy, UserId};

const NS: Namespace = Namespace::DEFAULT;

fn timeouts(absolute: Option<Duration>) -> Timeouts {
    Timeouts {
        default_idle: Duration::from_secs(600),
        min_idle: Duration::from_millis(1),
        max_idle: Duration::from_secs(3600),
        absolute,
    }
}

/// The backend on `server`, on a manual clock that starts at the real
/// time, so that Redis's own (relative) expiry agrees with it.
async fn backend(server: &RedisServer, timeouts: Timeouts) -> (Redis, Clock) {
    super::tests::backend(server, Limits::default(), timeouts).await
}

fn user(name: &str) -> UserId {
    UserId::parse(name).unwrap()
}

fn members(server: &RedisServer, name: &str) -> usize {
    let card = server.cli(&["zcard", &user_key(&NS, &user(name))]);
    card.trim().parse().unwrap()
}

async fn listed(redis: &Redis, name: &str) -> Vec<Handle> {
    let sessions = redis
        .list_user_sessions(&NS, &user(name), None)
        .await
        .unwrap();
    sessions.into_iter().map(|s| s.handle).collect()
}

#[tokio::test]
async fn a_listing_after_redis_expired_every_session_shows_none_and_cleans_the_index() {
    let server = RedisServer::start();
    let (redis, clock) = backend(&server, timeouts(None)).await;
    let alice = Binding::to(user("alice"));
    let short = Some(Duration::from_millis(30));
    for _ in 0..200 {
        redis
            .create_bound(&NS, HashMap::new(), short, &alice)
            .await
            .unwrap();
    }
    let kept = redis
        .create_bound(&NS, HashMap::new(), None, &alice)
        .await
        .unwrap();
    assert_eq!(members(&server, "alice"), 201);

    // Redis's own expiry, in real time: sessiond's clock has not moved, so
    // no script deleted them.
    let started = Instant::now();
    while server.cli(&["dbsize"]).trim() != "2" {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "redis expired nothing"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        listed(&redis, "alice").await,
        vec![Handle(kept.id.digest())]
    );
    // Just added (by this clock): kept in case a Create is in flight.
    assert_eq!(members(&server, "alice"), 201);

    clock.advance(redis.index_grace());
    assert_eq!(
        listed(&redis, "alice").await,
        vec![Handle(kept.id.digest())]
    );
    assert_eq!(
        members(&server, "alice"),
        1,
        "the listing cleaned the index"
    );
    assert_eq!(
        redis
            .revoke_user_sessions(&NS, &user("alice"), None)
            .await
            .unwrap(),
        1
    );
    assert_eq!(server.cli(&["dbsize"]).trim(), "0", "nothing left behind");
}

#[tokio::test]
async fn stale_members_are_never_listed_nor_revoked_and_go_once_settled() {
    let server = RedisServer::start();
    let (redis, clock) = backend(&server, timeouts(None)).await;
    let own = redis
        .create_bound(&NS, HashMap::new(), None, &Binding::to(user("alice")))
        .await
        .unwrap();
    let bobs = redis
        .create_bound(&NS, HashMap::new(), None, &Binding::to(user("bob")))
        .await
        .unwrap();
    // What a sessiond that died between two steps leaves in alice's index:
    // a member naming bob's session (a rebind whose binding never
    // happened), one naming no session (a Create that never happened) and
    // one it never wrote.
    let index = user_key(&NS, &user("alice"));
    let now = clock.now_ms();
    let to_bob = format!("{}:{now}.00000000000000aa", Handle(bobs.id.digest()));
    let missing = format!(
        "{}:{now}.00000000000000bb",
        Handle(SessionId::generate().digest())
    );
    for member in [to_bob.as_str(), missing.as_str(), "not a member"] {
        server.cli(&["zadd", &index, &now.to_string(), member]);
    }

    assert_eq!(listed(&redis, "alice").await, vec![Handle(own.id.digest())]);
    assert_eq!(
        members(&server, "alice"),
        3,
        "only the foreign one goes at once"
    );
    assert!(!redis
        .revoke_session(&NS, &Handle(bobs.id.digest()), Some(&user("alice")))
        .await
        .unwrap());

    clock.advance(redis.index_grace());
    assert_eq!(listed(&redis, "alice").await, vec![Handle(own.id.digest())]);
    assert_eq!(members(&server, "alice"), 1);
    server.cli(&["zadd", &index, &now.to_string(), &to_bob]);
    assert_eq!(
        redis
            .revoke_user_sessions(&NS, &user("alice"), None)
            .await
            .unwrap(),
        1,
        "bob's session is not alice's to end"
    );
    assert!(redis
        .read(&NS, bobs.id.clone(), vec![], false)
        .await
        .is_ok());
    assert_eq!(members(&server, "alice"), 0);
    assert_eq!(listed(&redis, "bob").await, vec![Handle(bobs.id.digest())]);
}

#[tokio::test]
async fn a_revocation_ends_a_session_a_rotate_is_moving_and_that_rotate_fails() {
    let server = RedisServer::start();
    let (redis, _clock) = backend(&server, timeouts(None)).await;
    let info = redis
        .create_bound(&NS, HashMap::new(), None, &Binding::to(user("alice")))
        .await
        .unwrap();
    let old = key(&info.id.digest());
    let new = key(&SessionId::generate().digest());
    let fields = redis.rotate_begin(&old, &new).await.unwrap();

    let ended = redis
        .revoke_user_sessions(&NS, &user("alice"), None)
        .await
        .unwrap();
    assert_eq!(ended, 1);
    redis.rotate_copy(&new, fields).await.unwrap();
    assert!(
        !redis.rotate_end(&old, &new, true).await.unwrap(),
        "the Rotate finds its hold gone and fails"
    );
}

#[tokio::test]
async fn the_index_expires_after_its_last_session_only_with_an_absolute_timeout() {
    let server = RedisServer::start();
    let absolute = Duration::from_secs(3600);
    let (capped, _) = backend(&server, timeouts(Some(absolute))).await;
    capped
        .create_bound(&NS, HashMap::new(), None, &Binding::to(user("alice")))
        .await
        .unwrap();
    let ttl: i64 = server
        .cli(&["pttl", &user_key(&NS, &user("alice"))])
        .trim()
        .parse()
        .unwrap();
    let most = millis(absolute + capped.index_grace()) as i64;
    assert!(ttl > most - 5_000 && ttl <= most, "{ttl} of {most}");

    let (sliding, _) = backend(&server, timeouts(None)).await;
    sliding
        .create_bound(&NS, HashMap::new(), None, &Binding::to(user("alice")))
        .await
        .unwrap();
    let ttl = server.cli(&["pttl", &user_key(&NS, &user("alice"))]);
    assert_eq!(
        ttl.trim(),
        "-1",
        "a session that may slide for ever keeps it"
    );
}

#[tokio::test]
async fn overlapping_logins_pass_the_limit_by_fewer_than_their_number_and_the_next_evicts_back() {
    let server = RedisServer::start();
    let limits = Limits {
        max_sessions_per_user: 3,
        per_user_policy: PerUserPolicy::EvictOldest,
        ..Limits::default()
    };
    let (redis, clock) = super::tests::backend(&server, limits, timeouts(None)).await;
    let alice = Binding::to(user("alice"));
    for _ in 0..3 {
        redis
            .create_bound(&NS, HashMap::new(), None, &alice)
            .await
            .unwrap();
        clock.advance(Duration::from_secs(1));
    }
    let overlapping = 8;
    let logins = (0..overlapping).map(|_| redis.create_bound(&NS, HashMap::new(), None, &alice));
    for login in futures_util::future::join_all(logins).await {
        login.unwrap();
    }
    let live = listed(&redis, "alice").await.len();
    assert!((3..3 + overlapping).contains(&live), "{live} live");

    clock.advance(Duration::from_secs(1));
    let last = redis
        .create_bound(&NS, HashMap::new(), None, &alice)
        .await
        .unwrap();
    let after = listed(&redis, "alice").await;
    assert_eq!(after.len(), 3, "evicted back down to the limit");
    assert_eq!(after[0], Handle(last.id.digest()), "the newest is kept");
}
