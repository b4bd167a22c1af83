//! The expiry index: sessions grouped by when the reaper should look at
//! them, so reclamation visits only what is due and never scans what lives.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::clock::Millis;

/// A second since the epoch at which the reaper looks at the sessions filed
/// under it ([`visit_at`]).
pub(crate) type Bucket = u32;

/// Deadlines closer than this are filed to the second (rounded up); later
/// ones coarsely, and filed again finer when their bucket comes due.
const FINE_SECONDS: u64 = 64;
/// The coarsest bucket: ~3 days.
const COARSEST_SECONDS: u64 = 1 << 18;

/// When the reaper should look at a session whose deadline is `deadline`,
/// as seen at `now`: the deadline's second rounded up when it is near,
/// else the deadline rounded down to a power of two seconds no more than
/// half the distance, so the visit falls after `now` and each visit at
/// least halves the distance left. A session is visited about log2(days)
/// times over its life, and sessions due far apart share few buckets,
/// each large: 8 bytes a session.
///
/// Never later than the deadline's second, so a session's memory outlives
/// its deadline by under a second (the session itself is gone the instant
/// its deadline passes: every access checks it).
pub(crate) fn visit_at(deadline: Millis, now: Millis) -> Bucket {
    let due = deadline.div_ceil(1000);
    let distance = deadline.saturating_sub(now) / 1000;
    let at = if distance < FINE_SECONDS {
        due
    } else {
        let step = (1u64 << (distance / 2).ilog2()).min(COARSEST_SECONDS);
        deadline / 1000 / step * step
    };
    Bucket::try_from(at).unwrap_or(Bucket::MAX)
}

/// When bucket `b` is due.
pub(crate) fn bucket_due(b: Bucket) -> Millis {
    Millis::from(b) * 1000
}

/// Map keys (the first 64 bits of a digest, unique among the sessions held)
/// by the second they are due a visit, sharded by key so that creates on
/// different cores rarely meet on one mutex.
///
/// Keys are only appended and popped, never searched for: a session that
/// leaves its bucket early (flushed, rotated, filed again sooner) is only
/// counted as stale, and the reaper skips keys whose session is gone or
/// filed elsewhere. When a shard holds more stale keys than live ones, the
/// reaper compacts it, so sessions created and flushed in a loop cannot
/// grow the index.
///
/// The index is allowed to be stale in one direction only: a session may be
/// filed to be visited before it is due (a read slid it), never after. The
/// reaper files such sessions again when it meets them.
pub(crate) struct ExpiryIndex {
    shards: Box<[Mutex<Shard>]>,
}

#[derive(Default)]
struct Shard {
    buckets: BTreeMap<Bucket, Keys>,
    /// Keys held, stale ones included.
    held: usize,
    /// Keys made stale since the last compaction: an upper bound of the
    /// stale keys held.
    stale: usize,
}

/// A shard compacts once it holds this many stale keys, and more stale than
/// live: a few KiB left behind at most, and compaction's cost is amortized
/// over the removals that made it due.
const MIN_STALE: usize = 64;

/// A bucket's keys, in chunks that never move once written. Appending never
/// copies and frees an old buffer, which the allocator would not give back
/// to the OS, and a drained chunk is freed at once. Chunks start small, for
/// the many small buckets near their due time.
#[derive(Default)]
struct Keys {
    chunks: Vec<Vec<u64>>,
}

const CHUNK_MAX: usize = 512;

impl Keys {
    fn push(&mut self, key: u64) {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < chunk.capacity() => chunk.push(key),
            last => {
                // Each chunk twice the last, so a bucket's spare room stays
                // under half of it until chunks reach their largest.
                let capacity = last.map_or(4, |c| (c.capacity() * 2).min(CHUNK_MAX));
                let mut chunk = Vec::with_capacity(capacity);
                chunk.push(key);
                self.chunks.push(chunk);
            }
        }
    }

    /// No chunk is ever left empty: one is dropped with its last key.
    fn pop(&mut self) -> Option<u64> {
        let chunk = self.chunks.last_mut()?;
        let key = chunk.pop();
        if chunk.is_empty() {
            self.chunks.pop();
        }
        key
    }

    /// Takes `other`'s chunks as they are, without moving a key.
    fn append(&mut self, other: Keys) {
        self.chunks.extend(other.chunks);
    }

    fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.chunks.iter().map(Vec::len).sum()
    }
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
        let mut shard = lock(self.shard(key));
        shard.buckets.entry(at).or_default().push(key);
        shard.held += 1;
    }

    /// Notes that `key` no longer belongs where it is filed. Returns whether
    /// its shard now wants compacting ([`ExpiryIndex::compact`]).
    pub fn forget(&self, key: u64) -> bool {
        let mut shard = lock(self.shard(key));
        shard.stale += 1;
        shard.wants_compacting()
    }

    /// Takes up to `max` keys filed in buckets due at `now` from shard
    /// `shard` into `out`, with their bucket, under one short lock
    /// acquisition.
    pub fn pop_due(&self, shard: usize, now: Millis, max: usize, out: &mut Vec<(Bucket, u64)>) {
        let mut guard = lock(&self.shards[shard]);
        let shard = &mut *guard;
        let start = out.len();
        while out.len() < max {
            let Some(mut first) = shard.buckets.first_entry() else {
                break;
            };
            let at = *first.key();
            if bucket_due(at) > now {
                break;
            }
            let keys = first.get_mut();
            while out.len() < max {
                match keys.pop() {
                    Some(key) => out.push((at, key)),
                    None => break,
                }
            }
            if keys.is_empty() {
                first.remove();
            }
        }
        let popped = out.len() - start;
        shard.held -= popped;
        // Popped keys that were stale are stale no more; which ones they
        // were is not known, so keep the bound an upper bound.
        shard.stale = shard.stale.min(shard.held);
    }

    /// When the earliest bucket is due, if any session is filed.
    pub fn earliest(&self) -> Option<Millis> {
        self.shards
            .iter()
            .filter_map(|s| lock(s).buckets.first_key_value().map(|(&at, _)| at))
            .min()
            .map(bucket_due)
    }

    /// Compacts one shard that holds more stale keys than live ones, if
    /// any, keeping the keys for which `filed(bucket, key)` says the session
    /// is still filed there; returns the keys dropped. The shard is taken
    /// out from under its lock while `filed` runs, so creates do not wait
    /// for the map lookups; keys filed meanwhile go into the emptied shard
    /// and the survivors join them.
    pub fn compact(&self, filed: impl Fn(Bucket, u64) -> bool) -> Option<usize> {
        for mutex in self.shards.iter() {
            let (buckets, held) = {
                let mut shard = lock(mutex);
                if !shard.wants_compacting() {
                    continue;
                }
                let held = shard.held;
                shard.held = 0;
                shard.stale = 0;
                (std::mem::take(&mut shard.buckets), held)
            };
            let mut kept = BTreeMap::<Bucket, Keys>::new();
            let mut count = 0;
            for (at, mut keys) in buckets {
                while let Some(key) = keys.pop() {
                    if filed(at, key) {
                        kept.entry(at).or_default().push(key);
                        count += 1;
                    }
                }
            }
            let mut shard = lock(mutex);
            for (at, keys) in kept {
                shard.buckets.entry(at).or_default().append(keys);
            }
            shard.held += count;
            return Some(held - count);
        }
        None
    }

    /// Keys in the index, stale ones included, for tests.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| lock(s).buckets.values().map(Keys::len).sum::<usize>())
            .sum()
    }
}

impl Shard {
    fn wants_compacting(&self) -> bool {
        self.stale >= MIN_STALE && self.stale * 2 > self.held
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
    fn near_deadlines_are_visited_in_their_second_and_far_ones_before() {
        let now = 1_700_000_000_000;
        for distance in [1, 999, 1_000, 1_001, 63_999] {
            let deadline = now + distance;
            let due = bucket_due(visit_at(deadline, now));
            assert!(due >= deadline && due < deadline + 1000, "{distance}");
        }
        for distance in [64_000, 65_000, 3_600_000, 14 * 86_400_000, 400 * 86_400_000] {
            let deadline = now + distance;
            let mut at = now;
            let mut visits = 0;
            // Follow the session down to the second it is due in.
            while bucket_due(visit_at(deadline, at)) < deadline {
                let next = bucket_due(visit_at(deadline, at));
                assert!(next > at, "a visit is always later than now");
                assert!(
                    deadline - next <= (deadline - at) / 2 + 1000,
                    "each visit halves what is left"
                );
                at = next;
                visits += 1;
            }
            assert!(visits <= 40, "{visits} visits for {distance} ms");
            assert!(bucket_due(visit_at(deadline, at)) < deadline + 1000);
        }
        assert_eq!(visit_at(Millis::MAX, 0), Bucket::MAX);
    }

    #[test]
    fn due_buckets_come_out_whole_and_later_ones_stay() {
        let index = ExpiryIndex::new(1);
        for key in 0..3000 {
            index.insert(6, key);
        }
        index.insert(7, 10_000);
        assert_eq!(index.earliest(), Some(6_000));

        let mut out = Vec::new();
        index.pop_due(0, 5_999, 128, &mut out);
        assert!(out.is_empty(), "not due before its second");
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
        assert_eq!(keys, (0..3000).collect::<Vec<_>>());
        assert_eq!(index.len(), 1);
        assert_eq!(index.earliest(), Some(7_000));
    }

    #[test]
    fn chunks_hold_keys_without_moving_them_and_go_when_drained() {
        let mut keys = Keys::default();
        for key in 0..5000 {
            keys.push(key);
        }
        assert_eq!(keys.len(), 5000);
        let capacity: usize = keys.chunks.iter().map(Vec::capacity).sum();
        assert!(capacity < 5000 + CHUNK_MAX, "{capacity} slots for 5000");
        assert!(keys.chunks.iter().all(|c| c.capacity() <= CHUNK_MAX));
        let mut popped: Vec<_> = std::iter::from_fn(|| keys.pop()).collect();
        popped.sort_unstable();
        assert_eq!(popped, (0..5000).collect::<Vec<_>>());
        assert!(keys.chunks.is_empty());
    }

    #[test]
    fn compaction_drops_what_is_no_longer_filed_and_keeps_the_rest() {
        let index = ExpiryIndex::new(4);
        let key = |i: u64| i << 32 | i;
        for i in 0..10_000 {
            index.insert(10 + (i % 7) as Bucket, key(i));
        }
        // Even keys leave the index: flushed, say.
        let mut wants = false;
        for i in (0..10_000).step_by(2) {
            wants |= index.forget(key(i));
        }
        assert!(wants, "half of every shard went stale");
        let filed = |at, k: u64| k % 2 == 1 && at == 10 + (k as u32 % 7);
        let dropped: usize = std::iter::from_fn(|| index.compact(filed)).sum();
        assert_eq!(dropped, 5_000);
        assert_eq!(index.len(), 5_000);
        assert_eq!(index.compact(|_, _| false), None, "nothing more is stale");

        let mut out = Vec::new();
        let mut seen = Vec::new();
        for shard in 0..index.shard_count() {
            loop {
                out.clear();
                index.pop_due(shard, 20_000, 128, &mut out);
                if out.is_empty() {
                    break;
                }
                seen.extend(out.iter().map(|&(_, k)| k));
            }
        }
        seen.sort_unstable();
        assert_eq!(seen, (1..10_000).step_by(2).map(key).collect::<Vec<_>>());
    }

    #[test]
    fn a_few_stale_keys_do_not_compact() {
        let index = ExpiryIndex::new(1);
        for key in 0..100 {
            index.insert(5, key);
        }
        for key in 0..MIN_STALE as u64 - 1 {
            assert!(!index.forget(key));
        }
        assert_eq!(index.compact(|_, _| false), None);
        assert_eq!(index.len(), 100);
    }
}
