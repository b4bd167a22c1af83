//! Unit tests of the memory backend on a manual clock: its own API, and
//! what only it has (the expiry index, the reaper, the map's layout).

use std::collections::HashMap;
use std::time::Duration;

use super::*;

const IDLE: Duration = Duration::from_secs(600);
const T0: Millis = 1_700_000_000_000;
/// The namespace of tests that are not about namespaces.
const NS: Namespace = Namespace::DEFAULT;

fn store_with(limits: Limits, absolute: Option<Duration>) -> Memory {
    let timeouts = Timeouts {
        default_idle: IDLE,
        min_idle: Duration::from_secs(1),
        max_idle: Duration::from_secs(30 * 24 * 3600),
        absolute,
    };
    Memory::new(limits, timeouts, Clock::manual(T0))
}

fn store() -> Memory {
    store_with(Limits::default(), None)
}

fn data(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn upsert(pairs: &[(&str, &str)]) -> Update {
    Update {
        upsert: data(pairs),
        ..Update::default()
    }
}

#[test]
fn a_created_session_reads_back_exactly_as_stored() {
    let store = store();
    let info = store
        .create(
            &NS,
            data(&[("username", "\"yuan\""), ("cart", "{\"items\": [1, 2]}")]),
            None,
        )
        .unwrap();
    assert_eq!(info.version, 1);
    assert_eq!(info.created_ms, T0);
    assert_eq!(info.expires_ms, T0 + IDLE.as_millis() as u64);

    let (got, values) = store.get(&NS, &info.id, &[], true).unwrap();
    assert_eq!(got.version, 1);
    assert_eq!(values["cart"], "{\"items\": [1, 2]}");
    assert_eq!(values.len(), 2);

    let (_, one) = store
        .get(&NS, &info.id, &["username".into(), "absent".into()], true)
        .unwrap();
    assert_eq!(one, data(&[("username", "\"yuan\"")]));
}

#[test]
fn an_expired_session_is_not_found_before_it_is_reclaimed() {
    let store = store();
    let id = store.create(&NS, data(&[]), None).unwrap().id;
    store.clock().advance(IDLE);
    assert_eq!(store.get(&NS, &id, &[], true), Err(SessionError::NotFound));
    assert_eq!(
        store.set(&NS, &id, upsert(&[("a", "1")])),
        Err(SessionError::NotFound)
    );
    assert_eq!(store.touch(&NS, &id, None), Err(SessionError::NotFound));
    assert_eq!(store.rotate(&NS, &id), Err(SessionError::NotFound));
    assert_eq!(store.len(), 1, "not reclaimed yet, but invisible");
    assert!(
        !store.flush(&NS, &id).unwrap(),
        "an expired session did not exist"
    );
    assert_eq!(store.len(), 0);
}

#[test]
fn reads_slide_the_idle_deadline_unless_asked_not_to() {
    let store = store();
    let id = store.create(&NS, data(&[]), None).unwrap().id;
    store.clock().advance(Duration::from_secs(500));
    let (info, _) = store.get(&NS, &id, &[], false).unwrap();
    assert_eq!(info.expires_ms, T0 + 600_000, "no_touch does not slide");
    let (info, _) = store.get(&NS, &id, &[], true).unwrap();
    assert_eq!(info.expires_ms, T0 + 1_100_000);
    store.clock().advance(Duration::from_secs(500));
    assert!(
        store.get(&NS, &id, &[], true).is_ok(),
        "alive thanks to the slide"
    );
}

#[test]
fn the_absolute_timeout_caps_sliding() {
    let store = store_with(Limits::default(), Some(Duration::from_secs(900)));
    let id = store.create(&NS, data(&[]), None).unwrap().id;
    for _ in 0..3 {
        store.clock().advance(Duration::from_secs(299));
        store.touch(&NS, &id, None).unwrap();
    }
    let (info, _) = store.get(&NS, &id, &[], true).unwrap();
    assert_eq!(info.expires_ms, T0 + 900_000);
    store.clock().advance(Duration::from_secs(3));
    assert_eq!(store.get(&NS, &id, &[], true), Err(SessionError::NotFound));
}

#[test]
fn a_set_that_crosses_a_limit_changes_nothing() {
    let limits = Limits {
        max_keys: 3,
        max_session_bytes: 40,
        ..Limits::default()
    };
    let store = store_with(limits, None);
    let id = store
        .create(&NS, data(&[("a", "1"), ("b", "2")]), None)
        .unwrap()
        .id;

    let too_many = upsert(&[("c", "3"), ("d", "4")]);
    let err = store.set(&NS, &id, too_many).unwrap_err();
    assert!(
        matches!(
            err,
            SessionError::LimitExceeded {
                limit: Limit::Keys,
                ..
            }
        ),
        "{err}"
    );

    let too_big = Update {
        upsert: data(&[("c", "\"0123456789012345678901234567890123456789\"")]),
        remove: vec!["a".into()],
        expected_version: None,
    };
    let err = store.set(&NS, &id, too_big).unwrap_err();
    assert!(matches!(
        err,
        SessionError::LimitExceeded {
            limit: Limit::SessionBytes,
            ..
        }
    ));

    let bad_json = upsert(&[("c", "3"), ("d", "nope")]);
    assert!(matches!(
        store.set(&NS, &id, bad_json),
        Err(SessionError::InvalidJson { .. })
    ));

    let (info, values) = store.get(&NS, &id, &[], true).unwrap();
    assert_eq!(values, data(&[("a", "1"), ("b", "2")]));
    assert_eq!(info.version, 1);
    assert_eq!(store.stats().data_bytes, 4);
}

#[test]
fn replacing_and_removing_keys_keeps_the_size_accounting_exact() {
    let limits = Limits {
        max_keys: 2,
        ..Limits::default()
    };
    let store = store_with(limits, None);
    let id = store
        .create(&NS, data(&[("a", "1"), ("b", "2")]), None)
        .unwrap()
        .id;
    // At the key limit, overwriting and swapping keys still fits.
    let swap = Update {
        upsert: data(&[("a", "11"), ("c", "3")]),
        remove: vec!["b".into(), "zz".into()],
        expected_version: None,
    };
    let info = store.set(&NS, &id, swap).unwrap();
    assert_eq!(info.version, 2);
    assert_eq!(
        store.get(&NS, &id, &[], true).unwrap().1,
        data(&[("a", "11"), ("c", "3")])
    );
    assert_eq!(store.stats().data_bytes, "a11c3".len());
}

#[test]
fn compare_and_set_refuses_a_stale_version() {
    let store = store();
    let id = store.create(&NS, data(&[]), None).unwrap().id;
    let mut first = upsert(&[("n", "1")]);
    first.expected_version = Some(1);
    assert_eq!(store.set(&NS, &id, first).unwrap().version, 2);
    let mut stale = upsert(&[("n", "2")]);
    stale.expected_version = Some(1);
    assert_eq!(
        store.set(&NS, &id, stale),
        Err(SessionError::VersionMismatch {
            expected: 1,
            actual: 2
        })
    );
    assert_eq!(store.get(&NS, &id, &[], true).unwrap().1["n"], "1");
}

#[test]
fn a_key_both_upserted_and_removed_is_refused() {
    let store = store();
    let id = store.create(&NS, data(&[]), None).unwrap().id;
    let both = Update {
        upsert: data(&[("k", "1")]),
        remove: vec!["k".into()],
        expected_version: None,
    };
    assert!(matches!(
        store.set(&NS, &id, both),
        Err(SessionError::InvalidKey(_))
    ));
}

#[test]
fn rotate_moves_the_data_to_a_new_id_and_kills_the_old_one() {
    let store = store_with(Limits::default(), Some(Duration::from_secs(3600)));
    let old = store
        .create(&NS, data(&[("user", "\"yuan\"")]), None)
        .unwrap();
    store.clock().advance(Duration::from_secs(60));
    let new = store.rotate(&NS, &old.id).unwrap();
    assert_ne!(new.id, old.id);
    assert_eq!(new.version, 2);
    assert_eq!(
        new.created_ms, old.created_ms,
        "the absolute cap still counts from creation"
    );
    assert_eq!(
        store.get(&NS, &old.id, &[], true),
        Err(SessionError::NotFound)
    );
    assert_eq!(
        store.get(&NS, &new.id, &[], true).unwrap().1["user"],
        "\"yuan\""
    );
    assert!(!store.flush(&NS, &old.id).unwrap());
    assert_eq!(store.len(), 1);
    assert_eq!(store.stats().rotated, 1);
}

#[test]
fn flush_is_idempotent() {
    let store = store();
    let id = store.create(&NS, data(&[("a", "1")]), None).unwrap().id;
    assert!(store.flush(&NS, &id).unwrap());
    assert!(!store.flush(&NS, &id).unwrap());
    assert_eq!(store.get(&NS, &id, &[], true), Err(SessionError::NotFound));
    assert_eq!(store.stats().flushed, 1);
    assert_eq!(store.stats().data_bytes, 0);
}

#[test]
fn sessions_created_and_flushed_in_a_loop_do_not_grow_the_index() {
    let store = store();
    let mut most = 0;
    for round in 0..20 {
        for _ in 0..5_000 {
            let id = store.create(&NS, data(&[]), None).unwrap().id;
            assert!(store.flush(&NS, &id).unwrap());
        }
        let mut compacted = 0;
        loop {
            let purge = store.purge_expired();
            assert_eq!(purge.reclaimed, 0, "nothing is due");
            compacted += purge.compacted;
            if !purge.more {
                break;
            }
        }
        assert!(compacted > 0, "round {round}: nothing compacted");
        most = most.max(store.shared.expiry.len());
    }
    assert_eq!(store.len(), 0);
    // Stale keys a shard holds before it compacts: fewer than 64 each, or
    // than its live ones (none here).
    assert!(most < 64 * 64, "the index held {most} keys for no session");
}

#[test]
fn touch_can_shorten_the_idle_timeout_and_the_reaper_honours_it() {
    let store = store();
    let id = store.create(&NS, data(&[]), None).unwrap().id;
    let info = store.touch(&NS, &id, Some(Duration::from_secs(5))).unwrap();
    assert_eq!(info.expires_ms, T0 + 5_000);
    assert_eq!(info.idle_timeout, Duration::from_secs(5));
    store.clock().advance(Duration::from_secs(5));
    let purge = store.purge_expired();
    assert_eq!(purge.reclaimed, 1);
    assert_eq!(store.len(), 0);
}

#[test]
fn idle_timeouts_outside_the_bounds_are_refused() {
    let store = store();
    let too_long = Duration::from_secs(31 * 24 * 3600);
    assert!(matches!(
        store.create(&NS, data(&[]), Some(too_long)),
        Err(SessionError::IdleTimeoutOutOfBounds { .. })
    ));
    let id = store.create(&NS, data(&[]), None).unwrap().id;
    assert!(matches!(
        store.touch(&NS, &id, Some(Duration::from_millis(10))),
        Err(SessionError::IdleTimeoutOutOfBounds { .. })
    ));
}

#[test]
fn reclamation_visits_only_what_expired() {
    let store = store();
    for _ in 0..10_000 {
        store
            .create(&NS, data(&[]), Some(Duration::from_secs(3600)))
            .unwrap();
    }
    let short: Vec<_> = (0..100)
        .map(|_| {
            store
                .create(&NS, data(&[("a", "1")]), Some(Duration::from_secs(60)))
                .unwrap()
                .id
        })
        .collect();
    // Half the short sessions are read halfway through: they must survive.
    store.clock().advance(Duration::from_secs(30));
    for id in &short[..50] {
        store.get(&NS, id, &[], true).unwrap();
    }
    store.clock().advance(Duration::from_secs(30));

    let purge = store.purge_expired();
    println!(
        "entries visited by the sweep: {} (10,100 live sessions)",
        purge.visited
    );
    assert_eq!(purge.visited, 100, "only the sessions filed as due");
    assert_eq!(purge.reclaimed, 50);
    assert!(!purge.more);
    assert_eq!(store.len(), 10_050);

    // Nothing is due now: a second sweep visits nothing.
    assert_eq!(store.purge_expired().visited, 0);
    // The re-filed sessions are reclaimed at their real deadline.
    store.clock().advance(Duration::from_secs(30));
    let purge = store.purge_expired();
    assert_eq!((purge.visited, purge.reclaimed), (50, 50));
    assert_eq!(store.len(), 10_000);
}

#[test]
fn a_mass_expiry_is_reclaimed_in_bounded_steps() {
    let store = store();
    for _ in 0..10_000 {
        store.create(&NS, data(&[]), None).unwrap();
    }
    store.clock().advance(IDLE);
    let mut calls = 0;
    loop {
        let purge = store.purge_expired();
        assert!(
            purge.visited <= 4096 + 128,
            "one call visited {}",
            purge.visited
        );
        calls += 1;
        if !purge.more {
            break;
        }
    }
    assert!(calls >= 3);
    assert_eq!(store.len(), 0);
    assert_eq!(store.stats().expired, 10_000);
    assert_eq!(store.shared.expiry.len(), 0);
}

#[test]
fn a_full_store_reclaims_expired_sessions_before_refusing() {
    let limits = Limits {
        max_sessions: 3,
        ..Limits::default()
    };
    let store = store_with(limits, None);
    for _ in 0..3 {
        store
            .create(&NS, data(&[]), Some(Duration::from_secs(10)))
            .unwrap();
    }
    let err = store.create(&NS, data(&[]), None).unwrap_err();
    assert!(matches!(
        err,
        SessionError::LimitExceeded {
            limit: Limit::Sessions,
            ..
        }
    ));
    assert!(err.to_string().contains("max-sessions"));
    assert_eq!(store.stats().refused, 1);
    store.clock().advance(Duration::from_secs(10));
    store.create(&NS, data(&[]), None).unwrap();
    assert_eq!(store.len(), 1);
    assert_eq!(store.stats().refused, 1);
}

#[tokio::test]
async fn the_background_reaper_compacts_the_index_after_many_flushes() {
    let store = store();
    let _reaper = spawn_reaper(&store);
    let ids: Vec<_> = (0..10_000)
        .map(|_| store.create(&NS, data(&[]), None).unwrap().id)
        .collect();
    // Let the reaper go to sleep towards the two-week deadlines.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    for id in &ids {
        store.flush(&NS, id).unwrap();
    }
    // Nothing is due: only the flushes' wake-up can get it compacting.
    for _ in 0..1000 {
        if store.shared.expiry.len() < 64 * 64 {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(
        store.shared.expiry.len() < 64 * 64,
        "{} stale keys left",
        store.shared.expiry.len()
    );
}

#[tokio::test]
async fn the_background_reaper_wakes_for_an_earlier_deadline() {
    let store = store();
    let _reaper = spawn_reaper(&store);
    store
        .create(&NS, data(&[]), Some(Duration::from_secs(3600)))
        .unwrap();
    // Let the reaper go to sleep towards the one-hour deadline.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    store
        .create(&NS, data(&[]), Some(Duration::from_secs(5)))
        .unwrap();
    store.clock().advance(Duration::from_secs(5));
    for _ in 0..1000 {
        if store.len() == 1 {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(
        store.len(),
        1,
        "the 5 s session was reclaimed, the 1 h one kept"
    );
}

#[test]
fn concurrent_sets_of_different_keys_lose_nothing() {
    let store = store();
    let id = store.create(&NS, data(&[]), None).unwrap().id;
    std::thread::scope(|scope| {
        for t in 0..8 {
            let (store, id) = (&store, &id);
            scope.spawn(move || {
                for i in 0..100 {
                    let key = format!("t{t}-k{i}");
                    store
                        .set(&NS, id, upsert(&[(&key, &i.to_string())]))
                        .unwrap();
                }
            });
        }
    });
    let (info, values) = store.get(&NS, &id, &[], true).unwrap();
    assert_eq!(values.len(), 8 * 100);
    assert_eq!(info.version, 1 + 8 * 100);
}

fn ns(name: &str) -> Namespace {
    Namespace::parse(name).unwrap()
}

#[test]
fn a_session_is_found_only_in_its_own_namespace_by_every_operation() {
    let store = store();
    let (shop, blog) = (ns("shop"), ns("blog"));
    let id = store.create(&shop, data(&[("a", "1")]), None).unwrap().id;
    for other in [&blog, &NS] {
        assert_eq!(
            store.get(other, &id, &[], true).unwrap_err(),
            SessionError::NotFound
        );
        assert_eq!(
            store.set(other, &id, upsert(&[("a", "2")])).unwrap_err(),
            SessionError::NotFound
        );
        assert_eq!(
            store.touch(other, &id, None).unwrap_err(),
            SessionError::NotFound
        );
        assert_eq!(
            store.rotate(other, &id).unwrap_err(),
            SessionError::NotFound
        );
        assert_eq!(store.flush(other, &id), Ok(false));
    }
    assert_eq!(store.get(&shop, &id, &[], true).unwrap().1["a"], "1");
}

#[test]
fn each_namespace_has_its_own_limit_within_the_total() {
    let limits = Limits {
        max_sessions: 5,
        max_sessions_per_namespace: 2,
        ..Limits::default()
    };
    let store = store_with(limits, None);
    let (shop, blog) = (ns("shop"), ns("blog"));
    let first = store.create(&shop, data(&[]), None).unwrap().id;
    store.create(&shop, data(&[]), None).unwrap();
    let err = store.create(&shop, data(&[]), None).unwrap_err();
    assert!(
        matches!(err, SessionError::LimitExceeded { limit: Limit::NamespaceSessions, max: 2, ref what } if what.contains("shop")),
        "{err:?}"
    );
    // The other namespace is not locked out, and a refusal counts nothing.
    store.create(&blog, data(&[]), None).unwrap();
    assert_eq!((store.len(), store.namespace_len(&shop)), (3, 2));

    // Flush and rotate keep the namespace's count right.
    let rotated = store.rotate(&shop, &first).unwrap().id;
    assert_eq!(store.namespace_len(&shop), 2);
    assert!(store.flush(&shop, &rotated).unwrap());
    assert_eq!(store.namespace_len(&shop), 1);
    store.create(&shop, data(&[]), None).unwrap();
}

#[test]
fn the_reaper_gives_back_the_namespace_slot_of_what_expires() {
    let limits = Limits {
        max_sessions_per_namespace: 1,
        ..Limits::default()
    };
    let store = store_with(limits, None);
    let shop = ns("shop");
    store
        .create(&shop, data(&[]), Some(Duration::from_secs(5)))
        .unwrap();
    store.clock().advance(Duration::from_secs(6));
    assert_eq!(store.purge_expired().reclaimed, 1);
    assert_eq!(store.namespace_len(&shop), 0);
    store.create(&shop, data(&[]), None).unwrap();
}

#[test]
fn a_map_emptied_by_a_mass_expiry_gives_its_memory_back() {
    let store = store();
    for _ in 0..100_000 {
        store.create(&NS, data(&[]), None).unwrap();
    }
    let full = store.shared.sessions.capacity();
    store.clock().advance(IDLE);
    while store.purge_expired().more {}
    assert_eq!(store.len(), 0);

    store.shrink_if_sparse(100_000);
    assert!(store.shared.sessions.capacity() < full / 4);
}

#[test]
fn the_map_hashes_a_key_as_itself() {
    // `Memory::exclusive_any` looks entries up in a shard's table by the key
    // as the hash, which holds only while the hasher passes it through.
    use std::hash::BuildHasher;
    let key = 0x0123_4567_89ab_cdef_u64;
    assert_eq!(BuildDigestHasher::default().hash_one(key), key);

    let store = store();
    let info = store
        .create(&Namespace::default(), data(&[("a", "1")]), None)
        .unwrap();
    let digest = info.id.digest_in(&Namespace::default());
    let map = &store.shared.sessions;
    let found = map.get(&digest.key()).expect("stored under its key");
    assert_eq!(map.hasher().hash_one(found.key()), digest.key());
}

#[test]
fn a_read_keeps_the_data_it_found_after_a_set_replaces_the_session() {
    let store = store();
    let id = store
        .create(&NS, data(&[("a", "1"), ("b", "\"two\"")]), None)
        .unwrap()
        .id;
    let all = store.read(&NS, &id, Vec::new(), true).unwrap();
    let asked = vec!["b".into(), "b".into(), "absent".into()];
    let some = store.read(&NS, &id, asked, false).unwrap();
    store
        .set(&NS, &id, upsert(&[("a", "10"), ("c", "3")]))
        .unwrap();

    assert_eq!(all.info.version, 1);
    assert_eq!(all.data.to_map(), data(&[("a", "1"), ("b", "\"two\"")]));
    assert_eq!(some.data.iter().collect::<Vec<_>>(), [("b", "\"two\"")]);
    assert_eq!(some.data.get("b"), Some("\"two\""));
    assert_eq!(some.data.get("a"), None, "a key not asked for is not read");
    let now = store.read(&NS, &id, Vec::new(), false).unwrap();
    assert_eq!((now.info.version, now.data.get("a")), (2, Some("10")));
}
