//! Reclamation: takes expired sessions out of memory in the background.
//!
//! Expired sessions are already invisible (every access checks the
//! deadline); this only frees their memory. It visits index entries whose
//! filed deadline has passed, nothing else, in bounded batches per lock.

use std::sync::atomic::Ordering;

use tokio::task::JoinHandle;

use super::expiry::visit_at;
use super::{Entry, Memory};
use crate::clock::Millis;
use crate::storage::watch::EndReason;

/// Index entries taken per lock acquisition of an index shard.
const BATCH: usize = 128;
/// Index entries visited per `purge_expired` call, after which the reaper
/// yields to the runtime so a mass expiry cannot starve request handlers.
/// A visit that reclaims costs about 1 µs (the entry's memory is freed
/// too), so this bounds the stall a request can meet behind the reaper to
/// about half a millisecond (BENCHMARKS.md: at 4096, a Get's p99.9 while 1M
/// sessions expired was 2.5x the steady one).
const VISITS_PER_CALL: usize = 512;

/// The map is shrunk when a burst of reclamation leaves fewer than
/// 1/`SPARSE` of the sessions it started with: hash tables never shrink by
/// themselves, so after a mass expiry the memory of the emptied tables
/// would stay taken.
const SPARSE: usize = 4;
/// Bursts that start with fewer sessions leave tables too small to matter.
const MIN_SHRINK_SESSIONS: usize = 64 * 1024;

/// What one `purge_expired` call did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purge {
    /// Index entries looked at.
    pub visited: usize,
    /// Sessions removed from memory.
    pub reclaimed: usize,
    /// Stale index entries dropped by compacting a shard of the index.
    pub compacted: usize,
    /// Whether work may remain: due entries (the call stopped at its
    /// bound), or another shard of the index to compact.
    pub more: bool,
}

impl Memory {
    /// Reclaims sessions whose deadline has passed, visiting at most
    /// `VISITS_PER_CALL` index entries; then, if nothing more is due,
    /// compacts one shard of the index if it holds more stale entries than
    /// live ones.
    pub fn purge_expired(&self) -> Purge {
        let s = &*self.shared;
        let now = s.clock.now_ms();
        let mut purge = Purge::default();
        let mut due = Vec::with_capacity(BATCH);
        let mut refile = Vec::new();
        for shard in 0..s.expiry.shard_count() {
            loop {
                due.clear();
                s.expiry.pop_due(shard, now, BATCH, &mut due);
                for &(at, key) in &due {
                    purge.visited += 1;
                    // Keys are unique among the sessions held; an index entry
                    // that no longer matches the session's filing is stale:
                    // the session was filed again since (or it is gone).
                    let due_now = |e: &Entry| e.indexed() == at && e.deadline() <= now;
                    if let Some((entry, ())) = s.sessions.remove_if(&key, |e, _| due_now(e)) {
                        self.publish_ended(entry.namespace(), &entry.digest(), EndReason::Expired);
                        self.unindex(&entry);
                        s.count.fetch_sub(1, Ordering::AcqRel);
                        s.namespaces.release(entry.namespace());
                        s.data_bytes
                            .fetch_sub(entry.data().bytes(), Ordering::Relaxed);
                        s.stats.expired.fetch_add(1, Ordering::Relaxed);
                        purge.reclaimed += 1;
                    } else if let Some(found) = s.sessions.get(&key) {
                        // Activity slid it: file it again under its real
                        // deadline, unless a Touch re-filed it meanwhile.
                        // That bucket is due after now, so later than this.
                        let entry = found.key();
                        let deadline = entry.deadline();
                        let later = visit_at(deadline, now);
                        if deadline > now
                            && entry
                                .indexed
                                .compare_exchange(at, later, Ordering::Relaxed, Ordering::Relaxed)
                                .is_ok()
                        {
                            refile.push((later, key));
                        }
                    }
                }
                for (at, key) in refile.drain(..) {
                    s.expiry.insert(at, key);
                }
                if purge.visited >= VISITS_PER_CALL {
                    purge.more = true;
                    return purge;
                }
                if due.len() < BATCH {
                    break;
                }
            }
        }
        let filed = |at, key| {
            s.sessions
                .get(&key)
                .is_some_and(|e| e.key().indexed() == at)
        };
        if let Some(dropped) = s.expiry.compact(filed) {
            purge.compacted = dropped;
            purge.more = true;
        }
        purge
    }

    /// Reclaims in a loop, sleeping until the earliest filed deadline or
    /// until an earlier one is filed. Runs until its task is aborted.
    async fn reap(self) {
        let s = &*self.shared;
        // Sessions held when the current burst of reclamation began.
        let mut burst_from = None;
        loop {
            let held = self.len();
            let purge = self.purge_expired();
            if purge.reclaimed > 0 {
                burst_from.get_or_insert(held);
            }
            if purge.more {
                tokio::task::yield_now().await;
                continue;
            }
            if let Some(held) = burst_from.take() {
                self.shrink_if_sparse(held);
            }
            // Publish what we sleep towards before looking again, so a
            // deadline filed in between either is seen here or notifies.
            let next = s.expiry.earliest().unwrap_or(Millis::MAX);
            s.reaper_next.store(next, Ordering::SeqCst);
            if s.expiry.earliest().unwrap_or(Millis::MAX) < next {
                continue;
            }
            let wake = s.reaper_wake.notified();
            tokio::select! {
                _ = s.clock.sleep_until(next), if next != Millis::MAX => {}
                _ = wake => {}
            }
            // Awake: the next scan sees whatever is filed meanwhile.
            s.reaper_next.store(0, Ordering::SeqCst);
        }
    }
}

impl Memory {
    /// Gives back the memory of a map that reclamation left mostly empty:
    /// `held` sessions before, under a quarter of them now. Shrinking
    /// rehashes each shard under its lock, one shard at a time, in time
    /// proportional to what remains.
    pub(super) fn shrink_if_sparse(&self, held: usize) {
        if held >= MIN_SHRINK_SESSIONS && self.len() * SPARSE < held {
            self.shared.sessions.shrink_to_fit();
        }
    }
}

/// Starts the background reaper; it stops when the handle is dropped.
pub fn spawn_reaper(store: &Memory) -> ReaperHandle {
    ReaperHandle(tokio::spawn(store.clone().reap()))
}

/// Owns the reaper task (mini-redis's drop guard): dropping it stops the
/// task, so a dropped server leaves nothing running.
pub struct ReaperHandle(JoinHandle<()>);

impl Drop for ReaperHandle {
    fn drop(&mut self) {
        self.0.abort();
    }
}
