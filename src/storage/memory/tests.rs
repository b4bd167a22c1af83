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

fn ns(name: &str) -> Namespace {
    Namespace::parse(name).unwrap()
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
