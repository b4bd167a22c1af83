//! Lifetime counters of the store, read by the metrics endpoint.

use std::sync::atomic::{AtomicU64, Ordering};

/// Relaxed atomics: each is touched once per operation, no lock shared
/// across requests.
#[derive(Default)]
pub(crate) struct Counters {
    pub created: AtomicU64,
    pub expired: AtomicU64,
    pub flushed: AtomicU64,
    pub rotated: AtomicU64,
    pub refused: AtomicU64,
}

impl Counters {
    pub fn snapshot(&self, sessions: usize, data_bytes: usize) -> StoreStats {
        StoreStats {
            sessions,
            data_bytes,
            created: self.created.load(Ordering::Relaxed),
            expired: self.expired.load(Ordering::Relaxed),
            flushed: self.flushed.load(Ordering::Relaxed),
            rotated: self.rotated.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
        }
    }
}

/// A point-in-time reading of the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreStats {
    /// Sessions held (live plus expired-but-unreclaimed).
    pub sessions: usize,
    /// Bytes of keys and values held.
    pub data_bytes: usize,
    /// Sessions created since start.
    pub created: u64,
    /// Sessions that expired and were reclaimed.
    pub expired: u64,
    /// Sessions deleted by Flush.
    pub flushed: u64,
    /// Sessions given a new id by Rotate.
    pub rotated: u64,
    /// Creations refused because the store held `max_sessions`. sessiond
    /// never evicts a live session to make room; this is what it does
    /// instead.
    pub refused: u64,
}
