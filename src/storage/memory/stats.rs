//! Lifetime counters of the store, read by the metrics endpoint.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::storage::StoreStats;

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
