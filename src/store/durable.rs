//! The store's side of persistence: journaling each change under the
//! session's guard, replaying records at start-up, and copying sessions out
//! for snapshots. The files themselves are `crate::persist`'s business.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use dashmap::mapref::entry::Entry as MapEntry;

use super::entry::{seconds, Entry, Meta};
use super::expiry::visit_at;
use super::fields::FieldsBuf;
use super::{Store, Update};
use crate::clock::Millis;
use crate::persist::codec::{self, Record, State};
use crate::persist::{FsyncPolicy, Journal};
use crate::session::{Digest, Namespace, SessionError};

/// How far a read may slide the deadline past the journaled one before the
/// new deadline is journaled: 1/64 of the idle timeout, between 1 s and 1 h.
/// A crash can therefore make a session expire at most this much early,
/// never late. (The entry keeps the journaled deadline to the second below,
/// which can only make a slide journaled sooner.)
fn slide_granularity(idle_ms: u64) -> u64 {
    (idle_ms / 64).clamp(1_000, 3_600_000)
}

impl Store {
    /// Starts journaling every change. Called once, after recovery.
    pub(crate) fn attach_journal(&self, journal: Journal) {
        let _ = self.shared.journal.set(journal);
    }

    fn journal(&self) -> Option<&Journal> {
        self.shared.journal.get()
    }

    /// Waits until the changes made so far are as durable as `--fsync`
    /// promises before acknowledging them: with `always`, until fsynced
    /// (batched across requests); otherwise at once.
    pub async fn durable(&self) -> Result<(), SessionError> {
        match self.journal() {
            Some(j) if j.policy() == FsyncPolicy::Always => {
                if j.wait_synced().await {
                    Ok(())
                } else {
                    Err(journal_failed())
                }
            }
            _ => Ok(()),
        }
    }

    pub(super) fn check_writable(&self) -> Result<(), SessionError> {
        match self.journal() {
            Some(j) if j.has_failed() => Err(journal_failed()),
            _ => Ok(()),
        }
    }

    pub(super) fn journal_put(&self, digest: &Digest, entry: &Entry) {
        if let Some(j) = self.journal() {
            let lsn = self.shared.namespaces.with_name(entry.namespace(), |ns| {
                j.append(|lsn, out| codec::put(out, lsn, digest, &entry.state(ns)))
            });
            entry.lsn.store(lsn, Ordering::Relaxed);
        }
    }

    /// Journals a Set; called after version and deadline moved, before the
    /// upserts are moved into the entry.
    pub(super) fn journal_update(&self, digest: &Digest, entry: &Entry, update: &Update) {
        if let Some(j) = self.journal() {
            let deadline = entry.idle_deadline_ms.load(Ordering::Relaxed);
            let lsn = j.append(|lsn, out| {
                codec::update(
                    out,
                    lsn,
                    digest,
                    entry.version(),
                    deadline,
                    update.upsert.iter(),
                    &update.remove,
                )
            });
            entry.lsn.store(lsn, Ordering::Relaxed);
            entry
                .persisted_s
                .store(seconds(deadline), Ordering::Relaxed);
        }
    }

    /// Journals an exact deadline change (Touch with a new idle timeout).
    pub(super) fn journal_deadline(&self, digest: &Digest, entry: &Entry) {
        if let Some(j) = self.journal() {
            let deadline = entry.idle_deadline_ms.load(Ordering::Relaxed);
            let lsn =
                j.append(|lsn, out| codec::deadline(out, lsn, digest, entry.idle_ms(), deadline));
            entry.lsn.store(lsn, Ordering::Relaxed);
            entry
                .persisted_s
                .store(seconds(deadline), Ordering::Relaxed);
        }
    }

    /// Journals a slide by a read, coarsely: only when the deadline moved a
    /// granule past the journaled one. Runs under the shared guard, so it is
    /// all atomics; of concurrent readers one wins, and the lsn keeps replay
    /// in order whatever order their records land in.
    pub(super) fn journal_slide(&self, digest: &Digest, entry: &Entry) {
        let Some(j) = self.journal() else { return };
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
            let lsn =
                j.append(|lsn, out| codec::deadline(out, lsn, digest, entry.idle_ms(), deadline));
            entry.lsn.fetch_max(lsn, Ordering::Relaxed);
        }
    }

    pub(super) fn journal_delete(&self, digest: &Digest) {
        if let Some(j) = self.journal() {
            j.append(|lsn, out| codec::delete(out, lsn, digest));
        }
    }

    pub(super) fn journal_rotate(&self, old: &Digest, new: &Digest, entry: &Entry) {
        if let Some(j) = self.journal() {
            let lsn = self.shared.namespaces.with_name(entry.namespace(), |ns| {
                j.append(|lsn, out| codec::rotate(out, lsn, old, new, &entry.state(ns)))
            });
            entry.lsn.store(lsn, Ordering::Relaxed);
        }
    }

    /// Applies one recovered record. Each session keeps the lsn of the last
    /// change it includes, so a record the snapshot already reflects is
    /// skipped, and the order records of different sessions landed in does
    /// not matter. Only called before serving, with no journal attached.
    pub(crate) fn restore(&self, record: Record) {
        let s = &*self.shared;
        match record {
            Record::Put { lsn, digest, state } => self.restore_put(lsn, digest, state),
            Record::Update {
                lsn,
                digest,
                version,
                idle_deadline_ms,
                upsert,
                remove,
            } => {
                self.exclusive_any(&digest, |e| {
                    if e.lsn.load(Ordering::Relaxed) < lsn {
                        let upsert: HashMap<String, String> = upsert.into_iter().collect();
                        let mut remove = remove;
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
            Record::Deadline {
                lsn,
                digest,
                idle_ms,
                idle_deadline_ms,
            } => {
                self.exclusive_any(&digest, |e| {
                    if e.lsn.load(Ordering::Relaxed) < lsn {
                        e.set_idle_ms(idle_ms);
                        e.idle_deadline_ms
                            .store(idle_deadline_ms, Ordering::Relaxed);
                        e.lsn.store(lsn, Ordering::Relaxed);
                    }
                });
            }
            Record::Delete { lsn, digest } => {
                s.sessions.remove_if(&digest.key(), |e, _| {
                    e.is(&digest) && e.lsn.load(Ordering::Relaxed) < lsn
                });
            }
            Record::Rotate {
                lsn,
                old,
                new,
                state,
            } => {
                s.sessions.remove_if(&old.key(), |e, _| {
                    e.is(&old) && e.lsn.load(Ordering::Relaxed) < lsn
                });
                self.restore_put(lsn, new, state);
            }
            Record::LogHeader { .. }
            | Record::SnapshotHeader { .. }
            | Record::SnapshotEnd { .. } => {}
        }
    }

    fn restore_put(&self, lsn: u64, digest: Digest, state: State) {
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
            Entry::new(meta, &FieldsBuf::from_map(&state.data))
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
    /// every other session in the expiry index, and recounts. Returns the
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

    /// Appends a snapshot frame for `entry` to `out`; `false` if it had
    /// expired by `now`.
    pub(crate) fn encode_snapshot_entry(
        &self,
        entry: &SnapshotEntry,
        now: Millis,
        out: &mut Vec<u8>,
    ) -> bool {
        let e = &entry.0;
        if !e.is_live(now) {
            return false;
        }
        // The lsn before the state: a slide that lands in between is then
        // replayed again, never skipped.
        let lsn = e.lsn.load(Ordering::Relaxed);
        let digest = e.digest();
        self.shared.namespaces.with_name(e.namespace(), |ns| {
            codec::frame(out, |buf| codec::put(buf, lsn, &digest, &e.state(ns)))
        });
        true
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

/// A session as a snapshot copies it out of the store.
pub(crate) struct SnapshotEntry(Entry);

fn journal_failed() -> SessionError {
    SessionError::Unavailable("the journal cannot be written; changes are refused until sessiond is restarted with a working --data-dir")
}
