//! The expiry index: sessions ordered by deadline, so reclamation visits only
//! what is due and never scans what lives.

use std::collections::BTreeSet;
use std::sync::Mutex;

use crate::clock::Millis;

/// Deadline-ordered sets of map keys (the first 64 bits of a digest, unique
/// among the sessions held), sharded by key so that creates on different
/// cores rarely meet on one mutex. A 16-byte element instead of the 40 of a
/// full digest: the index is a large share of a small session's memory.
///
/// The index is allowed to be stale in one direction only: an entry may say a
/// session is due earlier than it really is (a read slid its deadline), never
/// later. The reaper re-files such sessions when it meets them, so the work
/// per sweep is proportional to the sessions whose filed deadline passed.
pub(crate) struct ExpiryIndex {
    shards: Box<[Mutex<Filed>]>,
}

/// One shard: (filed deadline, map key), earliest first.
type Filed = BTreeSet<(Millis, u64)>;

impl ExpiryIndex {
    pub fn new(shards: usize) -> Self {
        ExpiryIndex {
            shards: (0..shards.max(1))
                .map(|_| Mutex::new(BTreeSet::new()))
                .collect(),
        }
    }

    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    fn shard(&self, key: u64) -> &Mutex<Filed> {
        // Bits the map uses for neither its shard (the top) nor its bucket
        // (the bottom) in any map of realistic size.
        let n = (key >> 32) as u16 as usize;
        &self.shards[n % self.shards.len()]
    }

    pub fn insert(&self, at: Millis, key: u64) {
        lock(self.shard(key)).insert((at, key));
    }

    pub fn remove(&self, at: Millis, key: u64) {
        lock(self.shard(key)).remove(&(at, key));
    }

    /// Takes up to `max` entries due at `now` from shard `shard` into `out`,
    /// under one short lock acquisition.
    pub fn pop_due(&self, shard: usize, now: Millis, max: usize, out: &mut Vec<(Millis, u64)>) {
        let mut set = lock(&self.shards[shard]);
        while out.len() < max {
            match set.first() {
                Some(&(at, _)) if at <= now => {
                    out.extend(set.pop_first());
                }
                _ => break,
            }
        }
    }

    /// The earliest filed deadline, if any.
    pub fn earliest(&self) -> Option<Millis> {
        self.shards
            .iter()
            .filter_map(|s| lock(s).first().map(|&(at, _)| at))
            .min()
    }

    /// Entries in the index, for tests.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }
}

/// A poisoned shard only means a panic elsewhere while it was held; the set
/// itself is always in a valid state, so keep using it.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
