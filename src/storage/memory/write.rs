//! Whole-object writes and namespace-wide operations: a Set that replaces
//! the whole map, sets the idle timeout, or creates the session under the
//! caller's id ([`SetMode`]), and the count and clear of one namespace.
//! What express-session's store interface needs, under the same checks,
//! limits, journal and counters as every other change.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use dashmap::mapref::entry::Entry as MapEntry;

use super::entry::{seconds, Entry};
use super::expiry::{visit_at, Bucket};
use super::namespaces::NsIndex;
use super::{info, Memory};
use crate::clock::Millis;
use crate::session::{
    Digest, FieldsBuf, Limit, Namespace, SessionError, SessionId, SessionInfo, SetMode, Update,
};
use crate::storage::watch::EndReason;

/// How often a create-if-missing Set goes round when the session appears
/// or expires under it between its two steps: twice is already a race of
/// three writers on one id.
const CREATE_TRIES: usize = 4;

impl Memory {
    /// [`Memory::set`], with what `mode` adds: the whole map replaced, a
    /// new idle timeout, or the session created under `id` when none lives.
    /// A create needs no `expected_version` (with one, a missing session is
    /// NotFound) and ignores removals: there is nothing to remove.
    pub fn set_with(
        &self,
        ns: &Namespace,
        id: &SessionId,
        mut update: Update,
        mode: SetMode,
    ) -> Result<SessionInfo, SessionError> {
        if mode == SetMode::default() {
            return self.set(ns, id, update);
        }
        self.checked_update(&mut update)?;
        let idle = mode
            .idle_timeout
            .map(|d| self.checked_idle(Some(d)))
            .transpose()?;
        let creates = mode.create_if_missing && update.expected_version.is_none();
        let digest = id.digest_in(ns);
        for _ in 0..CREATE_TRIES {
            let now = self.shared.clock.now_ms();
            let written = self.exclusive(&digest, now, |entry| {
                self.write_in(entry, id, &digest, now, &update, mode.replace_all, idle)
            });
            match written {
                Err(SessionError::NotFound) if creates => {}
                Err(refused) => return Err(refused),
                Ok((out, refile)) => {
                    if let Some(at) = refile {
                        self.unfile(digest.key());
                        self.file_deadline(at, digest.key());
                    }
                    return Ok(out);
                }
            }
            if let Some(created) = self.create_under(ns, id, &digest, &update.upsert, idle)? {
                return Ok(created);
            }
        }
        Err(SessionError::Unavailable(
            "the session kept appearing and expiring under this id; retry",
        ))
    }

    /// The change of `set_with` under the session's exclusive guard.
    /// Answers the session as written, and the bucket to file it in when
    /// its deadline moved sooner.
    #[allow(clippy::too_many_arguments)] // set_in's, and the mode's two
    fn write_in(
        &self,
        entry: &mut Entry,
        id: &SessionId,
        digest: &Digest,
        now: Millis,
        update: &Update,
        replace_all: bool,
        idle: Option<Duration>,
    ) -> Result<(SessionInfo, Option<Bucket>), SessionError> {
        if replace_all {
            self.replace_in(entry, digest, now, update)?;
        } else {
            self.set_in(entry, id, digest, now, update)?;
        }
        let Some(idle) = idle else {
            return Ok((info(id.clone(), entry), None));
        };
        let idle_ms = idle.as_millis() as u64;
        entry.set_idle_ms(idle_ms);
        entry
            .idle_deadline_ms
            .store(now.saturating_add(idle_ms), Ordering::Relaxed);
        self.emit_deadline(digest, entry);
        let at = visit_at(entry.deadline(), now);
        let sooner = at < entry.indexed();
        if sooner {
            entry.indexed.store(at, Ordering::Relaxed);
        }
        Ok((info(id.clone(), entry), sooner.then_some(at)))
    }

    /// The session's data becomes exactly `update.upsert`, told to the
    /// sink whole (a put), as a create is.
    fn replace_in(
        &self,
        entry: &mut Entry,
        digest: &Digest,
        now: Millis,
        update: &Update,
    ) -> Result<(), SessionError> {
        let s = &*self.shared;
        let version = entry.version();
        if let Some(expected) = update.expected_version {
            if expected != version {
                return Err(SessionError::VersionMismatch {
                    expected,
                    actual: version,
                });
            }
        }
        let data = self.checked_data(&update.upsert)?;
        let bytes = data.fields().bytes();
        let changed = Entry::with_data(entry, &data);
        if !update.upsert.is_empty() || !entry.data().is_empty() {
            changed.set_version(version + 1);
        }
        changed.slide(now);
        self.emit_put(digest, &changed);
        if changed.version() != version {
            self.publish_changed(changed.namespace(), digest, changed.version());
        }
        let deadline = changed.idle_deadline_ms.load(Ordering::Relaxed);
        changed
            .persisted_s
            .store(seconds(deadline), Ordering::Relaxed);
        let before = entry.data().bytes();
        *entry = changed;
        if bytes >= before {
            s.data_bytes.fetch_add(bytes - before, Ordering::Relaxed);
        } else {
            s.data_bytes.fetch_sub(before - bytes, Ordering::Relaxed);
        }
        Ok(())
    }

    /// `data`, already validated key by key, as a session's fields, unless
    /// it crosses the keys or session-size limit.
    fn checked_data(&self, data: &HashMap<String, String>) -> Result<FieldsBuf, SessionError> {
        let max_keys = self.shared.limits.max_keys;
        if data.len() > max_keys {
            return Err(SessionError::limit(
                Limit::Keys,
                format!("{} keys", data.len()),
                max_keys,
            ));
        }
        let fields = FieldsBuf::from_map(data);
        self.check_session_bytes(fields.fields().bytes())?;
        Ok(fields)
    }

    /// A new session under the caller's `id`, under the session limits.
    /// `None` when a live one appeared under it meanwhile (the caller then
    /// writes to that one). An expired one not yet reclaimed makes way.
    fn create_under(
        &self,
        ns: &Namespace,
        id: &SessionId,
        digest: &Digest,
        data: &HashMap<String, String>,
        idle: Option<Duration>,
    ) -> Result<Option<SessionInfo>, SessionError> {
        let s = &*self.shared;
        let idle = self.checked_idle(idle)?;
        let data = self.checked_data(data)?;
        let bytes = data.fields().bytes();
        let namespace = s.namespaces.intern(ns)?;
        self.reserve_slot(namespace)?;

        let now = s.clock.now_ms();
        if let Some((stale, ())) = s
            .sessions
            .remove_if(&digest.key(), |e, _| e.is(digest) && !e.is_live(now))
        {
            self.forget(&stale);
            s.stats.expired.fetch_add(1, Ordering::Relaxed);
        }
        let meta = self.fresh_meta(*digest, namespace, now, idle);
        let deadline = meta.idle_deadline_ms.min(meta.absolute_deadline_ms);
        let at = meta.indexed;
        match s.sessions.entry(Entry::new(meta, &data)) {
            MapEntry::Occupied(taken) => {
                let same = taken.key().is(digest);
                drop(taken);
                self.release_slot(namespace);
                return match same {
                    true => Ok(None),
                    false => Err(SessionError::ChosenIdTaken),
                };
            }
            MapEntry::Vacant(v) => {
                let stored = v.insert(());
                self.emit_put(digest, stored.key());
            }
        }
        self.file_deadline(at, digest.key());
        s.data_bytes.fetch_add(bytes, Ordering::Relaxed);
        s.stats.created.fetch_add(1, Ordering::Relaxed);
        Ok(Some(SessionInfo {
            id: id.clone(),
            version: 1,
            created_ms: now,
            expires_ms: deadline,
            idle_timeout: idle,
        }))
    }

    /// Gives back a slot [`Memory::reserve_slot`] counted.
    fn release_slot(&self, namespace: NsIndex) {
        self.shared.count.fetch_sub(1, Ordering::AcqRel);
        self.shared.namespaces.release(namespace);
    }

    /// Live sessions in `ns`: a walk of the whole map, one shard lock at a
    /// time (express-session's `length`, not a hot path).
    pub fn count(&self, ns: &Namespace) -> u64 {
        let s = &*self.shared;
        let Some(index) = s.namespaces.index_of(ns) else {
            return 0;
        };
        let now = s.clock.now_ms();
        let live = s
            .sessions
            .iter()
            .filter(|e| e.key().namespace() == index && e.key().is_live(now))
            .count();
        live as u64
    }

    /// Deletes every session of `ns`, each as a Flush does (journaled,
    /// counted as flushed); answers how many were live. Sessions created
    /// in `ns` while it runs may survive it.
    pub fn clear(&self, ns: &Namespace) -> u64 {
        let s = &*self.shared;
        let Some(index) = s.namespaces.index_of(ns) else {
            return 0;
        };
        let digests: Vec<Digest> = s
            .sessions
            .iter()
            .filter(|e| e.key().namespace() == index)
            .map(|e| e.key().digest())
            .collect();
        let now = s.clock.now_ms();
        let ended = digests
            .iter()
            .filter(|digest| self.end(digest, now, EndReason::Flushed, |e| e.is(digest)))
            .count();
        ended as u64
    }
}
