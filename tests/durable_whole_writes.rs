//! Whole-object writes survive a restart (issue 17): a session created
//! under a client-chosen id, a replace_all, an idle timeout set by Set,
//! and a namespace cleared, each from the journal alone and from a
//! snapshot.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sessiond::clock::{Clock, Millis};
use sessiond::session::{Limits, Namespace, SessionError, SessionId, SetMode, Timeouts, Update};
use sessiond::storage::durable::{FsyncPolicy, PersistConfig, Persistence};
use sessiond::storage::memory::Memory;

const T0: Millis = 1_700_000_000_000;

fn open(clock: &Clock, dir: &Path) -> (Memory, Arc<Persistence>) {
    let store = Memory::new(Limits::default(), Timeouts::default(), clock.clone());
    let config = PersistConfig {
        dir: dir.to_path_buf(),
        fsync: FsyncPolicy::Everysec,
        snapshot_interval: Duration::from_secs(3600),
        snapshot_log_bytes: u64::MAX,
        accept_data_loss: false,
    };
    let persistence = Persistence::open(&store, config).expect("recovers");
    (store, persistence)
}

fn upsert(pairs: &[(&str, &str)]) -> Update {
    Update {
        upsert: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Update::default()
    }
}

fn chosen(n: u8) -> SessionId {
    SessionId::parse_chosen(format!("Express-Chosen_Id-{n:02}-AbCdEfGhIjKl")).unwrap()
}

const CREATE: SetMode = SetMode {
    replace_all: true,
    create_if_missing: true,
    idle_timeout: Some(Duration::from_secs(3600)),
};

fn read(
    store: &Memory,
    ns: &Namespace,
    id: &SessionId,
) -> Option<(u64, u64, HashMap<String, String>)> {
    store
        .get(ns, id, &[], false)
        .map(|(info, data)| (info.version, info.idle_timeout.as_secs(), data))
        .map_err(|e| assert_eq!(e, SessionError::NotFound))
        .ok()
}

fn whole_writes_survive(snapshot_first: bool) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let (express, other) = (
        Namespace::parse("express").unwrap(),
        Namespace::parse("other").unwrap(),
    );
    let (store, persistence) = open(&clock, dir.path());
    let kept = chosen(1);
    store
        .set_with(&express, &kept, upsert(&[("a", "1"), ("b", "2")]), CREATE)
        .unwrap();
    let replace = SetMode {
        replace_all: true,
        idle_timeout: Some(Duration::from_secs(60)),
        ..SetMode::default()
    };
    store
        .set_with(&express, &kept, upsert(&[("c", "3")]), replace)
        .unwrap();
    let cleared = chosen(2);
    store
        .set_with(&other, &cleared, upsert(&[("x", "1")]), CREATE)
        .unwrap();
    if snapshot_first {
        persistence.snapshot().unwrap();
    }
    assert_eq!(store.clear(&other), 1);
    let before = read(&store, &express, &kept);
    drop((store, persistence));

    let (store, _persistence) = open(&clock, dir.path());
    let after = read(&store, &express, &kept);
    assert_eq!(after, before);
    let (version, idle, data) = after.unwrap();
    assert_eq!((version, idle), (2, 60));
    assert_eq!(data, upsert(&[("c", "3")]).upsert);
    assert_eq!(
        read(&store, &other, &cleared),
        None,
        "a cleared session stays gone"
    );
    assert_eq!(store.count(&express), 1);
    assert_eq!(store.namespace_len(&other), 0);
}

#[test]
fn whole_object_writes_and_a_clear_come_back_from_the_journal() {
    whole_writes_survive(false);
}

#[test]
fn whole_object_writes_and_a_clear_come_back_after_a_snapshot() {
    whole_writes_survive(true);
}
