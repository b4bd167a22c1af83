//! One stored session, in one allocation.
//!
//! The map's slot holds only a thin pointer: the entry is the map's key,
//! hashed and compared by its digest's first 64 bits, and the header and
//! the encoded data sit together behind the pointer. Hash tables keep up to
//! half their slots empty after growing, so every byte in a slot costs
//! about two per session, while a byte behind the pointer costs one
//! (BENCHMARKS.md, row 5).

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};

use triomphe::ThinArc;

use super::fields::{Fields, FieldsBuf};
use super::NsIndex;
use crate::clock::Millis;
use crate::persist::codec::StateRef;
use crate::session::Digest;

/// A session as the store holds it. Immutable but for its atomics: a
/// change of data builds a new `Entry` (sessions are small, and a Set
/// builds the new data anyway).
pub(crate) struct Entry(ThinArc<Header, u8>);

/// Everything about a session but its data.
#[derive(Debug)]
pub(crate) struct Header {
    /// The id digest's first 64 bits ([`Digest::key`]): what the map
    /// hashes and compares, unique among the sessions held.
    pub key: u64,
    /// The rest of the digest, which a lookup checks too.
    rest: [u8; 24],
    /// The namespace the session was created in, interned: the counts of
    /// the per-namespace limit are kept right by every removal, and
    /// snapshots record it so recovery can recount.
    pub namespace: NsIndex,
    pub created_ms: Millis,
    /// `created + absolute timeout`, or `Millis::MAX` when there is no cap.
    pub absolute_deadline_ms: Millis,
    /// Changed only under the map's exclusive guard.
    pub idle_ms: AtomicU64,
    /// Grows with every change of data or id; enables compare-and-set.
    /// Changed only under the map's exclusive guard.
    pub version: AtomicU64,
    /// `last activity + idle timeout`. Atomic so that a read can slide it
    /// under the map's shared guard: no exclusive lock on the hot path.
    pub idle_deadline_ms: AtomicU64,
    /// The deadline this session is filed under in the expiry index. Never
    /// later than the real deadline, so the index never misses an expiry.
    /// Changed under the map's exclusive guard, or by the reaper's
    /// compare-and-swap from the deadline it found filed.
    pub indexed_ms: AtomicU64,
    /// The journal position of the last change to this session. Replay
    /// skips a record at or below it: the state already includes it.
    pub lsn: AtomicU64,
    /// The idle deadline the journal last recorded. Reads slide the deadline
    /// in memory and journal it only when it has moved well past this, so a
    /// read never waits for the disk and the journal does not grow per read.
    pub persisted_deadline_ms: AtomicU64,
}

/// The plain values of a [`Header`], to build one from.
pub(crate) struct Meta {
    pub digest: Digest,
    pub namespace: NsIndex,
    pub created_ms: Millis,
    pub absolute_deadline_ms: Millis,
    pub idle_ms: u64,
    pub version: u64,
    pub idle_deadline_ms: Millis,
    pub indexed_ms: Millis,
    pub lsn: u64,
    pub persisted_deadline_ms: Millis,
}

impl Entry {
    pub fn new(meta: Meta, data: &FieldsBuf) -> Self {
        Entry::from_parts(meta, data.as_bytes())
    }

    fn from_parts(meta: Meta, data: &[u8]) -> Self {
        let mut rest = [0; 24];
        rest.copy_from_slice(&meta.digest.0[8..]);
        let header = Header {
            key: meta.digest.key(),
            rest,
            namespace: meta.namespace,
            created_ms: meta.created_ms,
            absolute_deadline_ms: meta.absolute_deadline_ms,
            idle_ms: AtomicU64::new(meta.idle_ms),
            version: AtomicU64::new(meta.version),
            idle_deadline_ms: AtomicU64::new(meta.idle_deadline_ms),
            indexed_ms: AtomicU64::new(meta.indexed_ms),
            lsn: AtomicU64::new(meta.lsn),
            persisted_deadline_ms: AtomicU64::new(meta.persisted_deadline_ms),
        };
        Entry(ThinArc::from_header_and_slice(header, data))
    }

    /// The values of the header now.
    pub fn meta(&self) -> Meta {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Meta {
            digest: self.digest(),
            namespace: self.namespace,
            created_ms: self.created_ms,
            absolute_deadline_ms: self.absolute_deadline_ms,
            idle_ms: load(&self.idle_ms),
            version: load(&self.version),
            idle_deadline_ms: load(&self.idle_deadline_ms),
            indexed_ms: load(&self.indexed_ms),
            lsn: load(&self.lsn),
            persisted_deadline_ms: load(&self.persisted_deadline_ms),
        }
    }

    /// Another handle on this very allocation: it stays valid after the
    /// map replaces or drops the entry, and sees its atomics change until
    /// then.
    pub fn share(&self) -> Self {
        Entry(self.0.clone())
    }

    /// The same session holding `data` instead.
    pub fn with_data(&self, data: &FieldsBuf) -> Self {
        Entry::new(self.meta(), data)
    }

    /// The same session under another digest.
    pub fn renamed(&self, digest: Digest) -> Self {
        let meta = Meta {
            digest,
            ..self.meta()
        };
        Entry::from_parts(meta, &self.0.slice)
    }

    pub fn data(&self) -> Fields<'_> {
        Fields::new(&self.0.slice)
    }

    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Relaxed)
    }

    pub fn idle_ms(&self) -> u64 {
        self.idle_ms.load(Ordering::Relaxed)
    }

    pub fn indexed_ms(&self) -> Millis {
        self.indexed_ms.load(Ordering::Relaxed)
    }

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

    /// Whether this is the session `digest` names, and it exists at `now`.
    pub fn is_live_as(&self, digest: &Digest, now: Millis) -> bool {
        self.is(digest) && self.is_live(now)
    }

    /// The state as the journal and snapshots encode it; `namespace` is the
    /// name of `self.namespace`.
    pub fn state<'a>(&'a self, namespace: &'a str) -> StateRef<'a> {
        StateRef {
            namespace,
            data: self.data(),
            version: self.version(),
            created_ms: self.created_ms,
            idle_ms: self.idle_ms(),
            absolute_deadline_ms: self.absolute_deadline_ms,
            idle_deadline_ms: self.idle_deadline_ms.load(Ordering::Relaxed),
        }
    }

    /// Activity: pushes the idle deadline to `now + idle timeout`. Never
    /// moves it back, so concurrent slides commute.
    pub fn slide(&self, now: Millis) {
        self.idle_deadline_ms
            .fetch_max(now.saturating_add(self.idle_ms()), Ordering::Relaxed);
    }
}

impl Header {
    pub fn digest(&self) -> Digest {
        let mut digest = [0; 32];
        digest[..8].copy_from_slice(&self.key.to_le_bytes());
        digest[8..].copy_from_slice(&self.rest);
        Digest(digest)
    }

    /// Whether this is the session `digest` names.
    pub fn is(&self, digest: &Digest) -> bool {
        self.key == digest.key() && self.rest == digest.0[8..]
    }
}

/// Hashed like its key, so the map finds an entry by `&u64`.
impl Hash for Entry {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for Entry {}

impl Borrow<u64> for Entry {
    fn borrow(&self) -> &u64 {
        &self.key
    }
}

impl Deref for Entry {
    type Target = Header;

    fn deref(&self) -> &Header {
        &self.0.header.header
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("header", &**self)
            .field("keys", &self.data().len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_one_pointer_and_the_header_stays_small() {
        assert_eq!(std::mem::size_of::<(Entry, ())>(), 8);
        // With the allocation's refcount and length this is 120 bytes, so a
        // session of ~100 bytes of data fits mimalloc's 224-byte class.
        assert!(std::mem::size_of::<Header>() <= 104);
    }
}

#[cfg(test)]
mod digest_tests {
    use super::*;

    #[test]
    fn the_header_keeps_the_whole_digest() {
        let mut bytes = [0; 32];
        bytes.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
        let digest = Digest(bytes);
        let meta = Meta {
            digest,
            namespace: 0,
            created_ms: 0,
            absolute_deadline_ms: Millis::MAX,
            idle_ms: 1,
            version: 1,
            idle_deadline_ms: 1,
            indexed_ms: 1,
            lsn: 0,
            persisted_deadline_ms: 1,
        };
        let entry = Entry::new(meta, &FieldsBuf::default());
        assert_eq!(entry.digest(), digest);
        assert!(entry.is(&digest));
        bytes[31] ^= 1;
        assert!(!entry.is(&Digest(bytes)));
        assert_eq!(*Borrow::<u64>::borrow(&entry), digest.key());
    }
}
