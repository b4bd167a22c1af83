//! One stored session.

use std::sync::atomic::{AtomicU64, Ordering};

use super::fields::Fields;
use crate::clock::Millis;
use crate::persist::codec::StateRef;

/// A session as the store holds it: its data and its clocks, but not its
/// id (the map is keyed by the id's digest).
#[derive(Debug)]
pub(crate) struct Entry {
    /// key -> JSON text, stored exactly as it was sent, compactly.
    pub data: Fields,
    /// The namespace the session was created in, interned: the counts of
    /// the per-namespace limit are kept right by every removal, and
    /// snapshots record it so recovery can recount.
    pub namespace: super::NsIndex,
    /// Grows with every change of data or id; enables compare-and-set.
    pub version: u64,
    pub created_ms: Millis,
    pub idle_ms: u64,
    /// `created + absolute timeout`, or `Millis::MAX` when there is no cap.
    pub absolute_deadline_ms: Millis,
    /// `last activity + idle timeout`. Atomic so that a read can slide it
    /// under the map's shared guard: no exclusive lock on the hot path.
    pub idle_deadline_ms: AtomicU64,
    /// The deadline this session is filed under in the expiry index. Never
    /// later than the real deadline, so the index never misses an expiry;
    /// changed only under the map's exclusive guard.
    pub indexed_ms: Millis,
    /// The journal position of the last change to this session. Replay
    /// skips a record at or below it: the state already includes it.
    pub lsn: AtomicU64,
    /// The idle deadline the journal last recorded. Reads slide the deadline
    /// in memory and journal it only when it has moved well past this, so a
    /// read never waits for the disk and the journal does not grow per read.
    pub persisted_deadline_ms: AtomicU64,
}

impl Entry {
    /// When the session expires if untouched.
    pub fn deadline(&self) -> Millis {
        self.idle_deadline_ms
            .load(Ordering::Relaxed)
            .min(self.absolute_deadline_ms)
    }

    /// Whether the session still exists at `now`: gone the instant its
    /// deadline passes, reclaimed or not.
    pub fn is_live(&self, now: Millis) -> bool {
        now < self.deadline()
    }

    /// The state as the journal and snapshots encode it; `namespace` is the
    /// name of `self.namespace`.
    pub fn state<'a>(&'a self, namespace: &'a str) -> StateRef<'a> {
        StateRef {
            namespace,
            data: &self.data,
            version: self.version,
            created_ms: self.created_ms,
            idle_ms: self.idle_ms,
            absolute_deadline_ms: self.absolute_deadline_ms,
            idle_deadline_ms: self.idle_deadline_ms.load(Ordering::Relaxed),
        }
    }

    /// Activity: pushes the idle deadline to `now + idle timeout`. Never
    /// moves it back, so concurrent slides commute.
    pub fn slide(&self, now: Millis) {
        self.idle_deadline_ms
            .fetch_max(now.saturating_add(self.idle_ms), Ordering::Relaxed);
    }
}
