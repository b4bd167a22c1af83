//! Memory's side of recovery and snapshots: sessions put back one change
//! at a time before serving, and shared out for a snapshot while serving.
//! What the changes and snapshots look like on disk is the durable
//! backend's business; this speaks only of states and lsns.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use dashmap::mapref::entry::Entry as MapEntry;

use super::entry::{seconds, Entry, Meta};
use super::expiry::visit_at;
use super::{Memory, State, StateRef};
use crate::clock::Millis;
use crate::session::{Binding, Digest, FieldsBuf, Namespace};

impl Memory {
    // Each session keeps the lsn of the last change it includes, so a
    // change the snapshot already reflects is skipped, and the order the
    // changes of different sessions landed in does not matter. Only called
    // before serving, with no sink attached.

    /// Puts back a Set.
    pub(crate) fn restore_update(
        &self,
        lsn: u64,
        digest: &Digest,
        version: u64,
        idle_deadline_ms: Millis,
        upsert: Vec<(String, String)>,
        mut remove: Vec<String>,
    ) {
        self.exclusive_any(digest, |e| {
            if e.lsn.load(Ordering::Relaxed) < lsn {
                let upsert: HashMap<String, String> = upsert.into_iter().collect();
                remove.sort_unstable();
                let data = e.data().updated(&upsert, &remove);
                *e = e.with_data(&data);
                e.set_version(version);
                e.idle_deadline_ms
                    .store(idle_deadline_ms, Ordering::Relaxed);
                e.lsn.store(lsn, Ordering::Relaxed);
            }
        });
    }

    /// Puts back a new idle timeout or deadline.
    pub(crate) fn restore_deadline(
        &self,
        lsn: u64,
        digest: &Digest,
        idle_ms: u64,
        idle_deadline_ms: Millis,
    ) {
        self.exclusive_any(digest, |e| {
            if e.lsn.load(Ordering::Relaxed) < lsn {
                e.set_idle_ms(idle_ms);
                e.idle_deadline_ms
                    .store(idle_deadline_ms, Ordering::Relaxed);
                e.lsn.store(lsn, Ordering::Relaxed);
            }
        });
    }

    /// Puts back a binding to a user (or its removal).
    pub(crate) fn restore_bind(&self, lsn: u64, digest: &Digest, binding: Option<Binding>) {
        self.exclusive_any(digest, |e| {
            if e.lsn.load(Ordering::Relaxed) < lsn {
                *e = e.with_binding(binding.as_ref());
                e.lsn.store(lsn, Ordering::Relaxed);
            }
        });
    }

    /// Puts back a Flush.
    pub(crate) fn restore_delete(&self, lsn: u64, digest: &Digest) {
        self.shared.sessions.remove_if(&digest.key(), |e, _| {
            e.is(digest) && e.lsn.load(Ordering::Relaxed) < lsn
        });
    }

    /// Puts back a Rotate.
    pub(crate) fn restore_rotate(&self, lsn: u64, old: &Digest, new: Digest, state: State) {
        self.restore_delete(lsn, old);
        self.restore_put(lsn, new, state);
    }

    /// Puts back a whole session (a Create, or a snapshot's).
    pub(crate) fn restore_put(&self, lsn: u64, digest: Digest, state: State) {
        // A name the codec accepted but the domain would not cannot come
        // from a sessiond that wrote it; keep the session in the default
        // namespace's count rather than drop it.
        let namespace = Namespace::parse(&state.namespace)
            .and_then(|ns| self.shared.namespaces.intern(&ns))
            .unwrap_or(0);
        let fresh = {
            let meta = Meta {
                digest,
                namespace,
                created_ms: state.created_ms,
                absolute_deadline_ms: state.absolute_deadline_ms,
                idle_ms: state.idle_ms,
                version: state.version,
                idle_deadline_ms: state.idle_deadline_ms,
                indexed: 0,
                lsn,
                persisted_deadline_ms: state.idle_deadline_ms,
            };
            Entry::new_bound(meta, state.user.as_ref(), &FieldsBuf::from_map(&state.data))
        };
        match self.shared.sessions.entry(fresh) {
            MapEntry::Occupied(o) => {
                // Another digest under the same key cannot have been written
                // by this sessiond (it keeps keys unique); the older wins.
                if !o.key().is(&digest) {
                    tracing::warn!(
                        session = %digest.short(),
                        "recovery: a second session under one 64-bit key; it is dropped"
                    );
                } else if o.key().lsn.load(Ordering::Relaxed) < lsn {
                    o.replace_entry(());
                }
            }
            MapEntry::Vacant(v) => {
                v.insert(());
            }
        }
    }

    /// Ends recovery: drops what expired while the server was down, files
    /// every other session in the expiry index and its user's keys, and
    /// recounts. Returns the
    /// sessions kept.
    pub(crate) fn finish_restore(&self) -> usize {
        let s = &*self.shared;
        let now = s.clock.now_ms();
        s.sessions.retain(|e, _| e.is_live(now));
        let mut count = 0;
        let mut bytes = 0;
        let mut by_namespace = HashMap::new();
        for found in s.sessions.iter() {
            let e = found.key();
            *by_namespace.entry(e.namespace()).or_insert(0) += 1;
            let at = visit_at(e.deadline(), now);
            e.indexed.store(at, Ordering::Relaxed);
            e.persisted_s.store(
                seconds(e.idle_deadline_ms.load(Ordering::Relaxed)),
                Ordering::Relaxed,
            );
            s.expiry.insert(at, e.key);
            self.index(e);
            count += 1;
            bytes += e.data().bytes();
        }
        s.count.store(count, Ordering::Release);
        s.namespaces.recount(&by_namespace);
        s.data_bytes.store(bytes, Ordering::Relaxed);
        count
    }

    /// The sessions held now, shared out of the map: each shard's read
    /// lock is held only while its pointers are copied, so a snapshot
    /// encodes with no lock held. A session changed or removed after this
    /// is encoded as it was here; its later journal records replay over it.
    pub(crate) fn snapshot_entries(&self) -> Vec<SnapshotEntry> {
        let mut out = Vec::with_capacity(self.len());
        out.extend(
            self.shared
                .sessions
                .iter()
                .map(|e| SnapshotEntry(e.key().share())),
        );
        out
    }

    /// Calls `f` with the lsn, digest and state of `entry` as they are
    /// now; `None` if it had expired by `now`.
    pub(crate) fn with_snapshot_state<T>(
        &self,
        entry: &SnapshotEntry,
        now: Millis,
        f: impl FnOnce(u64, &Digest, &StateRef<'_>) -> T,
    ) -> Option<T> {
        let e = &entry.0;
        if !e.is_live(now) {
            return None;
        }
        // The lsn before the state: a slide that lands in between is then
        // replayed again, never skipped.
        let lsn = e.lsn.load(Ordering::Relaxed);
        let digest = e.digest();
        let state = self
            .shared
            .namespaces
            .with_name(e.namespace(), |ns| f(lsn, &digest, &e.state(ns)));
        Some(state)
    }

    /// Digests of the sessions held now.
    #[cfg(test)]
    pub(crate) fn digests(&self) -> Vec<Digest> {
        let mut out: Vec<Digest> = self
            .shared
            .sessions
            .iter()
            .map(|e| e.key().digest())
            .collect();
        out.sort_unstable_by_key(|d| d.0);
        out
    }
}

/// A session as a snapshot copies it out of memory: a counted handle.
pub struct SnapshotEntry(Entry);
