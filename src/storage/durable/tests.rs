//! Unit tests of what the durable layer asks of memory: records put back
//! by digest, and sessions shared out for a snapshot, encoded as on disk.

use std::collections::HashMap;
use std::time::Duration;

use super::codec::{self, Next, Record, State};
use super::{FsyncPolicy, PersistConfig, Persistence};
use crate::clock::{Clock, Millis};
use crate::session::{Limits, Namespace, Timeouts, Update};
use crate::storage::memory::{Memory, SnapshotEntry};

fn store() -> Memory {
    Memory::new(
        Limits::default(),
        Timeouts::default(),
        Clock::manual(1_700_000_000_000),
    )
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

/// `entry` as a snapshot frame, as `snapshot::write` encodes it.
fn encoded(store: &Memory, entry: &SnapshotEntry, now: Millis) -> Vec<u8> {
    let mut out = Vec::new();
    let live = store.with_snapshot_state(entry, now, |lsn, digest, state| {
        codec::frame(&mut out, |buf| codec::put(buf, lsn, digest, state))
    });
    assert!(live.is_some(), "the session is live");
    out
}

/// The Put record of one snapshot frame.
fn decode_put(frame: &[u8]) -> (u64, crate::session::Digest, State) {
    let mut payload = Vec::new();
    let (next, _) = codec::read_frame(&mut &frame[..], frame.len() as u64, &mut payload).unwrap();
    assert!(matches!(next, Next::Frame));
    match codec::decode(&payload).unwrap() {
        Record::Put { lsn, digest, state } => (lsn, digest, state),
        other => panic!("a snapshot frame is a Put, not {other:?}"),
    }
}

#[test]
fn a_digest_that_shares_only_the_key_finds_nothing() {
    use crate::session::Digest;

    let store = store();
    let stored = Digest([7; 16]);
    let mut same_key = [7; 16];
    same_key[15] = 8; // the first 64 bits agree, the digest does not
    let same_key = Digest(same_key);
    assert_eq!(stored.key(), same_key.key());
    let now = store.clock().now_ms();
    let state = |user: &str| State {
        namespace: String::new(),
        data: data(&[("user", user)]),
        version: 1,
        created_ms: now,
        idle_ms: 60_000,
        absolute_deadline_ms: Millis::MAX,
        idle_deadline_ms: now + 60_000,
        user: None,
    };
    store.restore_put(1, stored, state("\"yuan\""));
    // Cannot come from a sessiond that keeps keys unique: kept out.
    store.restore_put(2, same_key, state("\"mallory\""));
    assert_eq!(store.finish_restore(), 1);
    assert_eq!(store.digests(), vec![stored]);

    let entries = store.snapshot_entries();
    assert_eq!(entries.len(), 1);
    let out = encoded(&store, &entries[0], now);
    let (_, digest, state) = decode_put(&out);
    assert_eq!(digest, stored);
    assert_eq!(state.data, data(&[("user", "\"yuan\"")]));
    // Nor does a record for the other digest touch the stored session.
    store.restore_delete(3, &same_key);
    assert_eq!(store.digests(), vec![stored]);
}

#[test]
fn a_snapshot_that_shared_a_session_out_before_a_set_replays_the_set() {
    let dir = tempfile::tempdir().unwrap();
    let store = store();
    let _persistence = Persistence::open(
        &store,
        PersistConfig {
            dir: dir.path().to_path_buf(),
            fsync: FsyncPolicy::No,
            snapshot_interval: Duration::from_secs(3600),
            snapshot_log_bytes: u64::MAX,
            accept_data_loss: false,
        },
    )
    .unwrap();
    let ns = Namespace::default();
    let info = store.create(&ns, data(&[("n", "1")]), None).unwrap();
    let now = store.clock().now_ms();
    let encoded = |entry| {
        let (lsn, _, state) = decode_put(&encoded(&store, entry, now));
        (lsn, state.data)
    };

    let before = store.snapshot_entries();
    store.set(&ns, &info.id, upsert(&[("n", "2")])).unwrap();
    let (old_lsn, old_data) = encoded(&before[0]);
    assert_eq!(old_data, data(&[("n", "1")]), "the state as it was shared");
    let (new_lsn, new_data) = encoded(&store.snapshot_entries()[0]);
    assert_eq!(new_data, data(&[("n", "2")]));
    assert!(
        old_lsn < new_lsn,
        "the old state must carry an lsn below the Set's, so replay applies the Set"
    );
}
