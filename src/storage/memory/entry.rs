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
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use triomphe::ThinArc;

use super::expiry::Bucket;
use super::{BindingRef, NsIndex, StateRef};
use crate::clock::Millis;
use crate::session::{put_str, take_str, Binding, Digest, Fields, FieldsBuf, HeldFields};

/// A session as the store holds it. Immutable but for its atomics: a
/// change of data builds a new `Entry` (sessions are small, and a Set
/// builds the new data anyway).
pub(crate) struct Entry(ThinArc<Header, u8>);

/// Everything about a session but its data: 72 bytes, so that with the
/// allocation's refcount and length (16) and ~100 bytes of data a session
/// fits mimalloc's 192-byte size class. Deadlines the store compares
/// exactly are milliseconds; the two it only schedules by are seconds.
#[derive(Debug)]
pub(crate) struct Header {
    /// The id digest's first 64 bits ([`Digest::key`]): what the map
    /// hashes and compares, unique among the sessions held.
    pub key: u64,
    /// The rest of the digest, which a lookup checks too.
    rest: u64,
    pub created_ms: Millis,
    /// `created + absolute timeout`, or `Millis::MAX` when there is no cap.
    pub absolute_deadline_ms: Millis,
    /// The idle timeout in ms, and in the top bit ([`BOUND`]) whether the
    /// allocation's bytes start with a user binding. Changed only under
    /// the map's exclusive guard. The flag costs no byte of the 72: an
    /// unbound session stays exactly as large as before bindings existed.
    idle_ms: AtomicU64,
    /// The version in the low [`VERSION_BITS`], the interned namespace above
    /// them. The version grows with every change of data or id (it enables
    /// compare-and-set) and changes only under the map's exclusive guard;
    /// the namespace never changes. It is kept so the per-namespace counts
    /// stay right on every removal, and snapshots record it.
    version_ns: AtomicU64,
    /// `last activity + idle timeout`. Atomic so that a read can slide it
    /// under the map's shared guard: no exclusive lock on the hot path.
    pub idle_deadline_ms: AtomicU64,
    /// The journal position of the last change to this session. Replay
    /// skips a record at or below it: the state already includes it.
    pub lsn: AtomicU64,
    /// The expiry index's bucket this session is filed in
    /// ([`super::expiry::visit_at`]).
    /// Never earlier than the bucket of its real deadline would be, so the
    /// index never misses an expiry. Changed under the map's exclusive
    /// guard, or by the reaper's compare-and-swap from the bucket it found.
    pub indexed: AtomicU32,
    /// The idle deadline the journal last recorded, in whole seconds rounded
    /// down. Reads slide the deadline in memory and journal it only when it
    /// has moved well past this, so a read never waits for the disk and the
    /// journal does not grow per read.
    pub persisted_s: AtomicU32,
}

/// Bits of [`Header::version_ns`] that hold the version: 2^48 changes of
/// one session are beyond reach, and the namespace index takes the rest.
const VERSION_BITS: u32 = 48;
const VERSION_MASK: u64 = (1 << VERSION_BITS) - 1;

/// The bit of [`Header::idle_ms`] that says the session is bound to a
/// user: its bytes then start with the user id, user agent and address
/// (each length-prefixed as fields are), and its fields follow. No idle
/// timeout comes near 2^63 ms.
const BOUND: u64 = 1 << 63;

/// A deadline in whole seconds, rounded down.
pub(crate) fn seconds(ms: Millis) -> u32 {
    u32::try_from(ms / 1000).unwrap_or(u32::MAX)
}

/// The plain values of a [`Header`], to build one from.
#[derive(Clone, Copy)]
pub(crate) struct Meta {
    pub digest: Digest,
    pub namespace: NsIndex,
    pub created_ms: Millis,
    pub absolute_deadline_ms: Millis,
    pub idle_ms: u64,
    pub version: u64,
    pub idle_deadline_ms: Millis,
    pub indexed: Bucket,
    pub lsn: u64,
    pub persisted_deadline_ms: Millis,
}

impl Entry {
    pub fn new(meta: Meta, data: &FieldsBuf) -> Self {
        Entry::from_parts(meta, data.as_bytes(), false)
    }

    /// A session bound to `binding` (or not, for `None`).
    pub fn new_bound(meta: Meta, binding: Option<&Binding>, data: &FieldsBuf) -> Self {
        match binding {
            None => Entry::new(meta, data),
            Some(b) => {
                let mut bytes = encode_binding(BindingRef::of(b));
                bytes.extend_from_slice(data.as_bytes());
                Entry::from_parts(meta, &bytes, true)
            }
        }
    }

    /// `bytes` is the binding (when `bound`) followed by the fields.
    fn from_parts(meta: Meta, bytes: &[u8], bound: bool) -> Self {
        let [k0, k1, k2, k3, k4, k5, k6, k7, r0, r1, r2, r3, r4, r5, r6, r7] = meta.digest.0;
        debug_assert!(meta.version <= VERSION_MASK);
        let header = Header {
            key: u64::from_le_bytes([k0, k1, k2, k3, k4, k5, k6, k7]),
            rest: u64::from_le_bytes([r0, r1, r2, r3, r4, r5, r6, r7]),
            created_ms: meta.created_ms,
            absolute_deadline_ms: meta.absolute_deadline_ms,
            idle_ms: AtomicU64::new(meta.idle_ms & !BOUND | if bound { BOUND } else { 0 }),
            version_ns: AtomicU64::new(
                u64::from(meta.namespace) << VERSION_BITS | meta.version & VERSION_MASK,
            ),
            idle_deadline_ms: AtomicU64::new(meta.idle_deadline_ms),
            lsn: AtomicU64::new(meta.lsn),
            indexed: AtomicU32::new(meta.indexed),
            persisted_s: AtomicU32::new(seconds(meta.persisted_deadline_ms)),
        };
        Entry(ThinArc::from_header_and_slice(header, bytes))
    }

    /// The values of the header now.
    pub fn meta(&self) -> Meta {
        Meta {
            digest: self.digest(),
            namespace: self.namespace(),
            created_ms: self.created_ms,
            absolute_deadline_ms: self.absolute_deadline_ms,
            idle_ms: self.idle_ms(),
            version: self.version(),
            idle_deadline_ms: self.idle_deadline_ms.load(Ordering::Relaxed),
            indexed: self.indexed(),
            lsn: self.lsn.load(Ordering::Relaxed),
            persisted_deadline_ms: self.persisted_deadline_ms(),
        }
    }

    /// Another handle on this very allocation: it stays valid after the
    /// map replaces or drops the entry, and sees its atomics change until
    /// then.
    pub fn share(&self) -> Self {
        Entry(self.0.clone())
    }

    /// The same session holding `data` instead, bound as it was.
    pub fn with_data(&self, data: &FieldsBuf) -> Self {
        if !self.is_bound() {
            return Entry::new(self.meta(), data);
        }
        let cut = self.binding_len();
        let mut bytes = Vec::with_capacity(cut + data.as_bytes().len());
        bytes.extend_from_slice(&self.0.slice[..cut]);
        bytes.extend_from_slice(data.as_bytes());
        Entry::from_parts(self.meta(), &bytes, true)
    }

    /// The same session and data, bound to `binding` instead (or to no
    /// one).
    pub fn with_binding(&self, binding: Option<&Binding>) -> Self {
        let data = &self.0.slice[self.binding_len()..];
        match binding {
            None => Entry::from_parts(self.meta(), data, false),
            Some(b) => {
                let mut bytes = encode_binding(BindingRef::of(b));
                bytes.extend_from_slice(data);
                Entry::from_parts(self.meta(), &bytes, true)
            }
        }
    }

    /// The same session under another digest (bound as it was: a binding
    /// survives Rotate).
    pub fn renamed(&self, digest: Digest) -> Self {
        let meta = Meta {
            digest,
            ..self.meta()
        };
        Entry::from_parts(meta, &self.0.slice, self.is_bound())
    }

    pub fn data(&self) -> Fields<'_> {
        Fields::new(&self.0.slice[self.binding_len()..])
    }

    /// Whether the session is bound to a user.
    pub fn is_bound(&self) -> bool {
        self.idle_ms.load(Ordering::Relaxed) & BOUND != 0
    }

    /// The user binding, if any.
    pub fn binding(&self) -> Option<BindingRef<'_>> {
        if !self.is_bound() {
            return None;
        }
        let (user, rest) = take_str(&self.0.slice);
        let (user_agent, rest) = take_str(rest);
        let (ip, _) = take_str(rest);
        Some(BindingRef {
            user: utf8(user),
            user_agent: utf8(user_agent),
            ip: utf8(ip),
        })
    }

    /// Bytes of the binding before the fields: 0 for an unbound session.
    fn binding_len(&self) -> usize {
        if !self.is_bound() {
            return 0;
        }
        let slice = &self.0.slice;
        let mut rest: &[u8] = slice;
        for _ in 0..3 {
            rest = take_str(rest).1;
        }
        slice.len() - rest.len()
    }

    /// The last activity: the idle deadline less the idle timeout.
    pub fn last_seen_ms(&self) -> Millis {
        let idle_deadline = self.idle_deadline_ms.load(Ordering::Relaxed);
        idle_deadline
            .saturating_sub(self.idle_ms())
            .max(self.created_ms)
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

    /// The state as a change sink and snapshots see it; `namespace` is the
    /// name of `self.namespace()`.
    pub fn state<'a>(&'a self, namespace: &'a str) -> StateRef<'a> {
        StateRef {
            namespace,
            data: self.data(),
            version: self.version(),
            created_ms: self.created_ms,
            idle_ms: self.idle_ms(),
            absolute_deadline_ms: self.absolute_deadline_ms,
            idle_deadline_ms: self.idle_deadline_ms.load(Ordering::Relaxed),
            user: self.binding(),
        }
    }

    /// Activity: pushes the idle deadline to `now + idle timeout`. Never
    /// moves it back, so concurrent slides commute.
    pub fn slide(&self, now: Millis) {
        self.idle_deadline_ms
            .fetch_max(now.saturating_add(self.idle_ms()), Ordering::Relaxed);
    }
}

/// A read's view of the data: a counted handle on the allocation, so the
/// reply is written from the stored bytes even if a Set replaces the
/// session meanwhile.
impl HeldFields for Entry {
    fn fields(&self) -> Fields<'_> {
        self.data()
    }
}

impl Header {
    pub fn digest(&self) -> Digest {
        let mut digest = [0; 16];
        digest[..8].copy_from_slice(&self.key.to_le_bytes());
        digest[8..].copy_from_slice(&self.rest.to_le_bytes());
        Digest(digest)
    }

    /// Whether this is the session `digest` names.
    pub fn is(&self, digest: &Digest) -> bool {
        self.digest() == *digest
    }

    pub fn namespace(&self) -> NsIndex {
        (self.version_ns.load(Ordering::Relaxed) >> VERSION_BITS) as NsIndex
    }

    pub fn version(&self) -> u64 {
        self.version_ns.load(Ordering::Relaxed) & VERSION_MASK
    }

    /// Sets the version. Under the map's exclusive guard only.
    pub fn set_version(&self, version: u64) {
        debug_assert!(version <= VERSION_MASK);
        let ns = u64::from(self.namespace()) << VERSION_BITS;
        self.version_ns
            .store(ns | version & VERSION_MASK, Ordering::Relaxed);
    }

    pub fn idle_ms(&self) -> u64 {
        self.idle_ms.load(Ordering::Relaxed) & !BOUND
    }

    /// Sets the idle timeout, keeping the binding flag. Under the map's
    /// exclusive guard only.
    pub fn set_idle_ms(&self, idle_ms: u64) {
        let bound = self.idle_ms.load(Ordering::Relaxed) & BOUND;
        self.idle_ms
            .store(idle_ms & !BOUND | bound, Ordering::Relaxed);
    }

    pub fn indexed(&self) -> Bucket {
        self.indexed.load(Ordering::Relaxed)
    }

    /// The journaled idle deadline, to the second below.
    pub fn persisted_deadline_ms(&self) -> Millis {
        Millis::from(self.persisted_s.load(Ordering::Relaxed)) * 1000
    }
}

/// A binding as the allocation holds it: user id, user agent, address.
fn encode_binding(b: BindingRef<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.user.len() + b.user_agent.len() + b.ip.len() + 3);
    put_str(&mut out, b.user);
    put_str(&mut out, b.user_agent);
    put_str(&mut out, b.ip);
    out
}

/// The binding went in as `&str`s; only a bug could make it otherwise.
fn utf8(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("a binding is encoded from UTF-8 strings")
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

    fn meta(digest: Digest) -> Meta {
        Meta {
            digest,
            namespace: 0,
            created_ms: 0,
            absolute_deadline_ms: Millis::MAX,
            idle_ms: 1,
            version: 1,
            idle_deadline_ms: 1,
            indexed: 1,
            lsn: 0,
            persisted_deadline_ms: 1,
        }
    }

    #[test]
    fn a_slot_is_one_pointer_and_a_session_of_100_bytes_fits_192() {
        assert_eq!(std::mem::size_of::<(Entry, ())>(), 8);
        assert_eq!(std::mem::size_of::<Header>(), 72);
        // The allocation: refcount, header, length, data. One field of 100
        // bytes, as BENCHMARKS.md's row 5 stores, encodes in 104.
        let data = FieldsBuf::from_pairs([("k", &*"x".repeat(100))]);
        let bytes = 8 + std::mem::size_of::<Header>() + 8 + data.as_bytes().len();
        assert!(bytes <= 192, "{bytes} bytes");
    }

    #[test]
    fn the_header_keeps_the_whole_digest() {
        let mut bytes: [u8; 16] = std::array::from_fn(|i| i as u8);
        let digest = Digest(bytes);
        let entry = Entry::new(meta(digest), &FieldsBuf::default());
        assert_eq!(entry.digest(), digest);
        assert!(entry.is(&digest));
        bytes[15] ^= 1;
        assert!(!entry.is(&Digest(bytes)));
        assert_eq!(*Borrow::<u64>::borrow(&entry), digest.key());
    }

    #[test]
    fn the_namespace_and_the_version_share_a_word_without_mixing() {
        let entry = Entry::new(
            Meta {
                namespace: NsIndex::MAX,
                version: VERSION_MASK - 1,
                ..meta(Digest([3; 16]))
            },
            &FieldsBuf::default(),
        );
        assert_eq!(entry.namespace(), NsIndex::MAX);
        assert_eq!(entry.version(), VERSION_MASK - 1);
        entry.set_version(7);
        assert_eq!((entry.namespace(), entry.version()), (NsIndex::MAX, 7));
        let renamed = entry.renamed(Digest([4; 16]));
        assert_eq!((renamed.namespace(), renamed.version()), (NsIndex::MAX, 7));
    }

    #[test]
    fn a_binding_sits_before_the_fields_and_survives_every_rebuild() {
        let user = crate::session::UserId::parse("alice").unwrap();
        let binding = Binding::new(user, "curl/8".into(), "10.0.0.1".into()).unwrap();
        let data = FieldsBuf::from_pairs([("k", "1")]);
        let plain = Entry::new(meta(Digest([6; 16])), &data);
        assert!(!plain.is_bound() && plain.binding().is_none());
        let bound = plain.with_binding(Some(&binding));
        assert_eq!(bound.idle_ms(), 1, "the flag is not part of the timeout");
        let b = bound.binding().unwrap();
        assert_eq!(
            (b.user, b.user_agent, b.ip),
            ("alice", "curl/8", "10.0.0.1")
        );
        assert_eq!(bound.data().get("k"), Some("1"));
        bound.set_idle_ms(5);
        assert!(bound.is_bound());
        assert_eq!(bound.idle_ms(), 5);
        let changed = bound.with_data(&FieldsBuf::from_pairs([("k", "2")]));
        assert_eq!(changed.binding().unwrap().user, "alice");
        assert_eq!(changed.data().get("k"), Some("2"));
        let renamed = changed.renamed(Digest([8; 16]));
        assert_eq!(renamed.binding().unwrap().ip, "10.0.0.1");
        assert_eq!(renamed.data().len(), 1);
        let unbound = renamed.with_binding(None);
        assert!(!unbound.is_bound());
        assert_eq!(unbound.data().get("k"), Some("2"));
        assert_eq!(unbound.idle_ms(), 5);
    }

    #[test]
    fn the_journaled_deadline_is_kept_to_the_second_below() {
        let entry = Entry::new(
            Meta {
                persisted_deadline_ms: 12_345,
                ..meta(Digest([5; 16]))
            },
            &FieldsBuf::default(),
        );
        assert_eq!(entry.persisted_deadline_ms(), 12_000);
    }
}
