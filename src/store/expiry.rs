//! The expiry index: sessions grouped by when they are due, so reclamation
//! visits only what is due and never scans what lives.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use crate::clock::Millis;
use crate::session::BuildDigestHasher;

/// A second (since the epoch) that sessions are filed under: each is filed
/// in the bucket of its deadline rounded up, and reclaimed once the bucket
/// is due. A session's memory outlives its deadline by under a second; the
/// session itself is gone the instant its deadline passes (every access
/// checks it).
pub(crate) type Bucket = u32;

/// The expiry index's bucket of a deadline: the whole second it falls in,
/// rounded up, so a bucket is due once every deadline filed in it passed.
pub(crate) fn bucket_of(deadline: Millis) -> Bucket {
    Bucket::try_from(deadline.div_ceil(1000)).unwrap_or(Bucket::MAX)
}

/// When bucket `b` is due.
pub(crate) fn bucket_due(b: Bucket) -> Millis {
    Millis::from(b) * 1000
}

/// Map keys (the first 64 bits of a digest, unique among the sessions held)
/// by bucket, sharded by key so that creates on different cores rarely meet
/// on one mutex.
///
/// A set per bucket holds 8 bytes per session (about 14 with the hash set's
/// free slots), where an ordered set of (deadline, key) pairs held about 30:
/// the index is a large share of a small session's memory (BENCHMARKS.md,
/// row 5). Removal stays exact, so sessions created and flushed in a loop
/// leave nothing behind.
///
/// The index is allowed to be stale in one direction only: a session may be
/// filed in an earlier bucket than its deadline's (a read slid it), never
/// in a later one. The reaper re-files such sessions when it meets them, so the work
/// per sweep is proportional to the sessions whose bucket came due.
pub(crate) struct ExpiryIndex {
    shards: Box<[Mutex<Shard>]>,
}

#[derive(Default)]
struct Shard {
    filed: BTreeMap<Bucket, HashSet<u64, BuildDigestHasher>>,
    /// A due bucket taken out of `filed`, handed out a batch at a time.
    /// Removing a key from it is not needed: the reaper skips keys whose
    /// session is gone or filed elsewhere.
    draining: Vec<u64>,
    draining_bucket: Bucket,
}

impl ExpiryIndex {
    pub fn new(shards: usize) -> Self {
        ExpiryIndex {
            shards: (0..shards.max(1)).map(|_| Mutex::default()).collect(),
        }
    }

    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    fn shard(&self, key: u64) -> &Mutex<Shard> {
        // Bits the map uses for neither its shard (the top) nor its bucket
        // (the bottom) in any map of realistic size.
        let n = (key >> 32) as u16 as usize;
        &self.shards[n % self.shards.len()]
    }

    pub fn insert(&self, at: Bucket, key: u64) {
        lock(self.shard(key))
            .filed
            .entry(at)
            .or_default()
            .insert(key);
    }

    pub fn remove(&self, at: Bucket, key: u64) {
        let mut shard = lock(self.shard(key));
        if let Some(set) = shard.filed.get_mut(&at) {
            set.remove(&key);
            if set.is_empty() {
                shard.filed.remove(&at);
            }
        }
    }

    /// Takes up to `max` keys filed in buckets due at `now` from shard
    /// `shard` into `out`, with their bucket, under one short lock
    /// acquisition.
    pub fn pop_due(&self, shard: usize, now: Millis, max: usize, out: &mut Vec<(Bucket, u64)>) {
        let mut guard = lock(&self.shards[shard]);
        let shard = &mut *guard;
        while out.len() < max {
            if let Some(key) = shard.draining.pop() {
                out.push((shard.draining_bucket, key));
                continue;
            }
            match shard.filed.first_key_value() {
                Some((&at, _)) if bucket_due(at) <= now => {
                    let (at, keys) = shard.filed.pop_first().expect("a first bucket");
                    // A fresh vector each time: the one of a mass expiry
                    // is given back once drained.
                    shard.draining = keys.into_iter().collect();
                    shard.draining_bucket = at;
                }
                _ => break,
            }
        }
    }

    /// When the earliest bucket is due, if any session is filed.
    pub fn earliest(&self) -> Option<Millis> {
        self.shards
            .iter()
            .filter_map(|s| {
                let shard = lock(s);
                match shard.draining.is_empty() {
                    false => Some(shard.draining_bucket),
                    true => shard.filed.first_key_value().map(|(&at, _)| at),
                }
            })
            .min()
            .map(bucket_due)
    }

    /// Keys in the index, for tests.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let shard = lock(s);
                shard.draining.len() + shard.filed.values().map(HashSet::len).sum::<usize>()
            })
            .sum()
    }
}

/// A poisoned shard only means a panic elsewhere while it was held; the
/// index itself is always in a valid state, so keep using it.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_round_deadlines_up_to_the_second() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(1), 1);
        assert_eq!(bucket_of(1000), 1);
        assert_eq!(bucket_of(1001), 2);
        assert_eq!(bucket_of(Millis::MAX), Bucket::MAX);
        for deadline in [1, 999, 1000, 1001, 123_456_789] {
            let due = bucket_due(bucket_of(deadline));
            assert!(due >= deadline && due < deadline + 1000, "{deadline}");
        }
    }

    #[test]
    fn due_buckets_come_out_whole_and_later_ones_stay() {
        let index = ExpiryIndex::new(1);
        for key in 0..300 {
            index.insert(bucket_of(5_500), key);
        }
        index.insert(bucket_of(7_000), 1_000);
        assert_eq!(index.earliest(), Some(6_000));

        let mut out = Vec::new();
        index.pop_due(0, 5_999, 128, &mut out);
        assert!(out.is_empty(), "not due before its second is over");
        let mut keys = Vec::new();
        loop {
            out.clear();
            index.pop_due(0, 6_000, 128, &mut out);
            if out.is_empty() {
                break;
            }
            assert!(out.len() <= 128);
            assert!(out.iter().all(|&(at, _)| at == 6));
            keys.extend(out.iter().map(|&(_, k)| k));
        }
        keys.sort_unstable();
        assert_eq!(keys, (0..300).collect::<Vec<_>>());
        assert_eq!(index.len(), 1);
        assert_eq!(index.earliest(), Some(7_000));
    }

    #[test]
    fn a_removed_key_leaves_nothing_behind() {
        let index = ExpiryIndex::new(4);
        for key in 0..10_000u64 {
            let key = key << 32 | key;
            index.insert(bucket_of(key % 5_000), key);
        }
        for key in 0..10_000u64 {
            let key = key << 32 | key;
            index.remove(bucket_of(key % 5_000), key);
        }
        assert_eq!(index.len(), 0);
        assert_eq!(index.earliest(), None);
        assert!(index.shards.iter().all(|s| lock(s).filed.is_empty()));
    }

    #[test]
    fn a_half_drained_bucket_is_still_the_earliest() {
        let index = ExpiryIndex::new(1);
        for key in 0..10 {
            index.insert(2, key);
        }
        index.insert(9, 99);
        let mut out = Vec::new();
        index.pop_due(0, 2_000, 4, &mut out);
        assert_eq!(out.len(), 4);
        assert_eq!(index.earliest(), Some(2_000));
        assert_eq!(index.len(), 7);
    }
}
