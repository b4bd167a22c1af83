//! What memory tells its [`ChangeSink`]: every change, under the session's
//! guard, in the order the session saw them. The sink (the durable
//! backend's journal) decides what to do with them; memory knows nothing of
//! files.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use super::entry::{seconds, Entry};
use super::{Memory, Update};
use crate::clock::Millis;
use crate::session::{Binding, Digest, Fields};

/// Receives every change memory makes once attached
/// ([`Memory::attach_sink`]). Each call runs under the changed session's
/// guard, so it must not block: append to a buffer, and let another thread
/// do the I/O. The `u64` a call returns is the change's position in the
/// sink's order (an lsn), which memory keeps on the session so that a
/// replay can skip what a snapshot already holds.
pub trait ChangeSink: Send + Sync + 'static {
    /// A session created, whole.
    fn put(&self, digest: &Digest, state: &StateRef<'_>) -> u64;
    /// A Set: the new version and idle deadline, with what it upserted and
    /// removed.
    fn update(
        &self,
        digest: &Digest,
        version: u64,
        idle_deadline_ms: Millis,
        upsert: &HashMap<String, String>,
        remove: &[String],
    ) -> u64;
    /// A new idle timeout or deadline.
    fn deadline(&self, digest: &Digest, idle_ms: u64, idle_deadline_ms: Millis) -> u64;
    /// A session flushed.
    fn delete(&self, digest: &Digest);
    /// A session moved from `old` to `new`, whole.
    fn rotate(&self, old: &Digest, new: &Digest, state: &StateRef<'_>) -> u64;
    /// A session bound to a user (or unbound, for `None`).
    fn bind(&self, digest: &Digest, user: Option<BindingRef<'_>>) -> u64;
}

/// A session's whole state, owned: as a snapshot or a Create/Rotate record
/// holds it, and as recovery hands it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// The namespace's name (`""` for the default one).
    pub namespace: String,
    pub data: HashMap<String, String>,
    pub version: u64,
    pub created_ms: Millis,
    pub idle_ms: u64,
    pub absolute_deadline_ms: Millis,
    pub idle_deadline_ms: Millis,
    /// The user the session is bound to, with its listing metadata.
    pub user: Option<Binding>,
}

/// A borrowed [`State`], so a sink can encode under the guard without the
/// data being copied first.
pub struct StateRef<'a> {
    pub namespace: &'a str,
    pub data: Fields<'a>,
    pub version: u64,
    pub created_ms: Millis,
    pub idle_ms: u64,
    pub absolute_deadline_ms: Millis,
    pub idle_deadline_ms: Millis,
    pub user: Option<BindingRef<'a>>,
}

/// A borrowed [`Binding`], as a session's allocation holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BindingRef<'a> {
    pub user: &'a str,
    /// Empty when not given.
    pub user_agent: &'a str,
    /// Empty when not given.
    pub ip: &'a str,
}

impl<'a> BindingRef<'a> {
    pub fn of(b: &'a Binding) -> Self {
        BindingRef {
            user: b.user.as_str(),
            user_agent: &b.user_agent,
            ip: &b.ip,
        }
    }
}

/// How far a read may slide the deadline past the one last told to the
/// sink before the new deadline is told: 1/64 of the idle timeout, between
/// 1 s and 1 h. A crash can therefore make a session expire at most this
/// much early, never late. (The entry keeps the told deadline to the second
/// below, which can only make a slide told sooner.)
fn slide_granularity(idle_ms: u64) -> u64 {
    (idle_ms / 64).clamp(1_000, 3_600_000)
}

impl Memory {
    /// Starts telling every change to `sink`. Called once, after recovery.
    pub fn attach_sink(&self, sink: impl ChangeSink) {
        let _ = self.shared.sink.set(Box::new(sink));
    }

    fn sink(&self) -> Option<&dyn ChangeSink> {
        self.shared.sink.get().map(|s| &**s)
    }

    pub(super) fn emit_put(&self, digest: &Digest, entry: &Entry) {
        if let Some(sink) = self.sink() {
            let lsn = self
                .shared
                .namespaces
                .with_name(entry.namespace(), |ns| sink.put(digest, &entry.state(ns)));
            entry.lsn.store(lsn, Ordering::Relaxed);
        }
    }

    /// Tells a Set; called after version and deadline moved, before the
    /// upserts are moved into the entry.
    pub(super) fn emit_update(&self, digest: &Digest, entry: &Entry, update: &Update) {
        if let Some(sink) = self.sink() {
            let deadline = entry.idle_deadline_ms.load(Ordering::Relaxed);
            let lsn = sink.update(
                digest,
                entry.version(),
                deadline,
                &update.upsert,
                &update.remove,
            );
            entry.lsn.store(lsn, Ordering::Relaxed);
            entry
                .persisted_s
                .store(seconds(deadline), Ordering::Relaxed);
        }
    }

    /// Tells an exact deadline change (Touch with a new idle timeout).
    pub(super) fn emit_deadline(&self, digest: &Digest, entry: &Entry) {
        if let Some(sink) = self.sink() {
            let deadline = entry.idle_deadline_ms.load(Ordering::Relaxed);
            let lsn = sink.deadline(digest, entry.idle_ms(), deadline);
            entry.lsn.store(lsn, Ordering::Relaxed);
            entry
                .persisted_s
                .store(seconds(deadline), Ordering::Relaxed);
        }
    }

    /// Tells a slide by a read, coarsely: only when the deadline moved a
    /// granule past the told one. Runs under the shared guard, so it is
    /// all atomics; of concurrent readers one wins, and the lsn keeps replay
    /// in order whatever order their records land in.
    pub(super) fn emit_slide(&self, digest: &Digest, entry: &Entry) {
        let Some(sink) = self.sink() else { return };
        let deadline = entry.idle_deadline_ms.load(Ordering::Relaxed);
        let persisted = entry.persisted_s.load(Ordering::Relaxed);
        let granule = slide_granularity(entry.idle_ms());
        if deadline < (Millis::from(persisted) * 1000).saturating_add(granule) {
            return;
        }
        if entry
            .persisted_s
            .compare_exchange(
                persisted,
                seconds(deadline),
                Ordering::AcqRel,
                Ordering::Relaxed,
            )
            .is_ok()
        {
            let lsn = sink.deadline(digest, entry.idle_ms(), deadline);
            entry.lsn.fetch_max(lsn, Ordering::Relaxed);
        }
    }

    pub(super) fn emit_delete(&self, digest: &Digest) {
        if let Some(sink) = self.sink() {
            sink.delete(digest);
        }
    }

    pub(super) fn emit_bind(&self, digest: &Digest, entry: &Entry) {
        if let Some(sink) = self.sink() {
            let lsn = sink.bind(digest, entry.binding());
            entry.lsn.store(lsn, Ordering::Relaxed);
        }
    }

    pub(super) fn emit_rotate(&self, old: &Digest, new: &Digest, entry: &Entry) {
        if let Some(sink) = self.sink() {
            let lsn = self.shared.namespaces.with_name(entry.namespace(), |ns| {
                sink.rotate(old, new, &entry.state(ns))
            });
            entry.lsn.store(lsn, Ordering::Relaxed);
        }
    }
}
