//! The memory backend: a sharded concurrent map (dashmap) keyed by id
//! digest, with an expiry index and a background reaper. No I/O, no tonic,
//! no hyper; what changed goes to a [`ChangeSink`], if one is attached.
//!
//! `Memory` is a cheap `Clone` handle. Every operation names the
//! [`Namespace`] it works in: a session is keyed by
//! [`SessionId::digest_in`] its namespace, so it exists in no other. Its
//! operations are synchronous; `backend.rs` answers them through the
//! storage boundary as ready [`crate::storage::Op`]s.

mod backend;
mod changes;
mod checks;
mod entry;
mod expiry;
mod merge;
mod namespaces;
mod reaper;
mod restore;
mod run_set;
mod stats;
mod user_index;
mod users;
mod watch;
mod write;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dashmap::mapref::entry::Entry as MapEntry;
use dashmap::DashMap;
use tokio::sync::Notify;

use crate::clock::{Clock, Millis};
use crate::session::{
    validate_key, validate_value, Binding, BuildDigestHasher, DataView, Digest, FieldsBuf, Limit,
    Limits, Namespace, SessionError, SessionId, SessionInfo, SessionRead, Timeouts, Update,
};
use crate::storage::watch::EndReason;
use crate::storage::StoreStats;
use entry::{Entry, Meta};
use expiry::{bucket_due, visit_at, Bucket, ExpiryIndex};
use namespaces::{Namespaces, NsIndex};
use user_index::UserIndex;

pub use changes::{BindingRef, ChangeSink, State, StateRef};
pub use reaper::{spawn_reaper, Purge, ReaperHandle};
pub use restore::SnapshotEntry;

/// Shards of the map and of the expiry index. More shards than cores keeps
/// two requests from meeting on one lock; 64 costs a few KiB.
const SHARDS: usize = 64;

/// Handle on the shared map.
#[derive(Clone)]
pub struct Memory {
    shared: Arc<Shared>,
}

struct Shared {
    /// A set of entries, found by `&u64`: the first 64 bits of the digest
    /// ([`crate::session::Digest::key`]); the entry holds the rest.
    sessions: DashMap<Entry, (), BuildDigestHasher>,
    expiry: ExpiryIndex,
    clock: Clock,
    limits: Limits,
    timeouts: Timeouts,
    /// Sessions in the map, live or expired-but-unreclaimed. Kept apart from
    /// `DashMap::len`, which would lock every shard.
    count: AtomicUsize,
    /// The namespaces seen, with their own session counts.
    namespaces: Namespaces,
    /// The sessions of each user, for listings and revocation.
    users: UserIndex,
    /// Bytes of keys and values held, for the bytes-held figure.
    data_bytes: AtomicUsize,
    stats: stats::Counters,
    /// Set once persistence is on and recovery has finished; every change
    /// is told to it from then on, under the session's guard.
    sink: std::sync::OnceLock<Box<dyn ChangeSink>>,
    /// Wakes the reaper when a deadline earlier than the one it sleeps
    /// towards is filed.
    reaper_wake: Notify,
    /// The deadline the reaper sleeps towards: `Millis::MAX` for none, 0
    /// while it is awake (or not started) and will scan the index anyway.
    reaper_next: AtomicU64,
    /// Watch subscribers, told of every change and end.
    watchers: watch::Watchers,
}

impl Memory {
    pub fn new(limits: Limits, timeouts: Timeouts, clock: Clock) -> Self {
        Memory {
            shared: Arc::new(Shared {
                sessions: DashMap::with_capacity_and_hasher_and_shard_amount(
                    0,
                    BuildDigestHasher::default(),
                    SHARDS,
                ),
                expiry: ExpiryIndex::new(SHARDS),
                clock,
                limits,
                timeouts,
                count: AtomicUsize::new(0),
                namespaces: Namespaces::new(),
                users: UserIndex::new(),
                data_bytes: AtomicUsize::new(0),
                stats: stats::Counters::default(),
                sink: std::sync::OnceLock::new(),
                reaper_wake: Notify::new(),
                reaper_next: AtomicU64::new(0),
                watchers: watch::Watchers::new(),
            }),
        }
    }

    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    pub fn limits(&self) -> &Limits {
        &self.shared.limits
    }

    pub fn timeouts(&self) -> &Timeouts {
        &self.shared.timeouts
    }

    /// A new session in `ns` holding `data`, under a fresh server-generated
    /// id.
    pub fn create(
        &self,
        ns: &Namespace,
        data: HashMap<String, String>,
        idle_timeout: Option<Duration>,
    ) -> Result<SessionInfo, SessionError> {
        self.create_with(ns, data, idle_timeout, None)
    }

    /// [`Self::create`], bound to a user when `binding` says so.
    fn create_with(
        &self,
        ns: &Namespace,
        data: HashMap<String, String>,
        idle_timeout: Option<Duration>,
        binding: Option<&Binding>,
    ) -> Result<SessionInfo, SessionError> {
        let s = &*self.shared;
        let idle = self.checked_idle(idle_timeout)?;
        for (key, value) in &data {
            validate_key(key, &s.limits)?;
            validate_value(key, value, &s.limits)?;
        }
        if data.len() > s.limits.max_keys {
            return Err(SessionError::limit(
                Limit::Keys,
                format!("{} keys", data.len()),
                s.limits.max_keys,
            ));
        }
        let data = FieldsBuf::from_map(&data);
        let bytes = data.fields().bytes();
        self.check_session_bytes(bytes)?;
        let namespace = s.namespaces.intern(ns)?;
        let user = binding.map(|b| s.users.key(namespace, b.user.as_str()));
        // Held until the session is in its user's keys, so the count below
        // and this session's arrival are one step for that user.
        let _admitted = user.map(|user| s.users.admit(user));
        if let Some(b) = binding {
            self.make_room_for(namespace, b.user.as_str(), None)?;
        }
        self.reserve_slot(namespace)?;

        let now = s.clock.now_ms();

        // Keys are 64 bits of a digest: one taken by another session is
        // skipped like a taken id, so keys stay unique among the held.
        let (id, meta) = loop {
            let id = SessionId::generate();
            let digest = id.digest_in(ns);
            let meta = self.fresh_meta(digest, namespace, now, idle);
            match s.sessions.entry(Entry::new_bound(meta, binding, &data)) {
                MapEntry::Occupied(_) => continue,
                MapEntry::Vacant(v) => {
                    let stored = v.insert(());
                    self.emit_put(&digest, stored.key());
                    break (id, meta);
                }
            }
        };
        let (key, at) = (meta.digest.key(), meta.indexed);
        let deadline = meta.idle_deadline_ms.min(meta.absolute_deadline_ms);
        if let Some(user) = user {
            s.users.insert(user, key);
        }
        self.file_deadline(at, key);
        s.data_bytes.fetch_add(bytes, Ordering::Relaxed);
        s.stats.created.fetch_add(1, Ordering::Relaxed);
        Ok(SessionInfo {
            id,
            version: 1,
            created_ms: now,
            expires_ms: deadline,
            idle_timeout: idle,
        })
    }

    /// The header of a session created now under `digest`, at version 1,
    /// filed for its deadline.
    fn fresh_meta(&self, digest: Digest, namespace: NsIndex, now: Millis, idle: Duration) -> Meta {
        let absolute = self
            .shared
            .timeouts
            .absolute
            .map_or(Millis::MAX, |a| now.saturating_add(a.as_millis() as Millis));
        let idle_ms = idle.as_millis() as u64;
        let idle_deadline = now.saturating_add(idle_ms);
        Meta {
            digest,
            namespace,
            created_ms: now,
            absolute_deadline_ms: absolute,
            idle_ms,
            version: 1,
            idle_deadline_ms: idle_deadline,
            indexed: visit_at(idle_deadline.min(absolute), now),
            lsn: 0,
            persisted_deadline_ms: idle_deadline,
        }
    }

    /// Reads the named keys (all when `keys` is empty) as a view of the
    /// stored session: no key or value is copied. Slides the idle deadline
    /// unless `touch` is false, under the map's shared guard only.
    pub fn read(
        &self,
        ns: &Namespace,
        id: &SessionId,
        keys: Vec<String>,
        touch: bool,
    ) -> Result<SessionRead, SessionError> {
        self.read_as(ns, Cow::Borrowed(id), keys, touch)
    }

    /// [`Self::read`] of an id the caller has no more use for: the reply's
    /// [`SessionInfo`] takes it rather than a copy, which would cost a Get
    /// an allocation, a copy and a free (BENCHMARKS.md, row 1).
    pub fn read_owned(
        &self,
        ns: &Namespace,
        id: SessionId,
        keys: Vec<String>,
        touch: bool,
    ) -> Result<SessionRead, SessionError> {
        self.read_as(ns, Cow::Owned(id), keys, touch)
    }

    fn read_as(
        &self,
        ns: &Namespace,
        id: Cow<'_, SessionId>,
        keys: Vec<String>,
        touch: bool,
    ) -> Result<SessionRead, SessionError> {
        let s = &*self.shared;
        for key in &keys {
            validate_key(key, &s.limits)?;
        }
        let now = s.clock.now_ms();
        let digest = id.digest_in(ns);
        let found = self.shared_live(&digest, now)?;
        let entry = found.key();
        if touch {
            entry.slide(now);
            self.emit_slide(&digest, entry);
        }
        Ok(SessionRead {
            info: info(id.into_owned(), entry),
            data: DataView::shared(Box::new(entry.share()), keys),
        })
    }

    /// [`Self::read`], with the data copied out.
    pub fn get(
        &self,
        ns: &Namespace,
        id: &SessionId,
        keys: &[String],
        touch: bool,
    ) -> Result<(SessionInfo, HashMap<String, String>), SessionError> {
        let read = self.read(ns, id, keys.to_vec(), touch)?;
        let data = read.data.to_map();
        Ok((read.info, data))
    }

    /// Applies every upsert and removal of `update` atomically, or nothing.
    pub fn set(
        &self,
        ns: &Namespace,
        id: &SessionId,
        mut update: Update,
    ) -> Result<SessionInfo, SessionError> {
        self.checked_update(&mut update)?;
        let now = self.shared.clock.now_ms();
        let digest = id.digest_in(ns);
        self.exclusive(&digest, now, |entry| {
            self.set_in(entry, id, &digest, now, &update)
        })
    }

    /// `set` under the session's exclusive guard.
    fn set_in(
        &self,
        entry: &mut Entry,
        id: &SessionId,
        digest: &Digest,
        now: Millis,
        update: &Update,
    ) -> Result<SessionInfo, SessionError> {
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

        // Work out the result first, so a limit refuses the whole request.
        let data = entry.data().updated(&update.upsert, &update.remove);
        let keys = data.fields().len();
        if keys > s.limits.max_keys {
            return Err(SessionError::limit(
                Limit::Keys,
                format!("{keys} keys"),
                s.limits.max_keys,
            ));
        }
        let bytes = data.fields().bytes();
        self.check_session_bytes(bytes)?;

        // The new allocation takes the change and its lsn; the old one keeps
        // the lsn of the state it holds, so a snapshot that shared it out
        // before this Set encodes it with that lsn and replays the Set.
        let changed = Entry::with_data(entry, &data);
        if !update.upsert.is_empty() || entry.data().has_any(&update.remove) {
            changed.set_version(version + 1);
        }
        changed.slide(now);
        self.emit_update(digest, &changed, update);
        if changed.version() != version {
            self.publish_changed(changed.namespace(), digest, changed.version());
        }
        let before = entry.data().bytes();
        *entry = changed;
        let out = info(id.clone(), entry);
        if bytes >= before {
            s.data_bytes.fetch_add(bytes - before, Ordering::Relaxed);
        } else {
            s.data_bytes.fetch_sub(before - bytes, Ordering::Relaxed);
        }
        Ok(out)
    }

    /// Deletes the session. Idempotent: `false` when there was no live one.
    pub fn flush(&self, ns: &Namespace, id: &SessionId) -> Result<bool, SessionError> {
        let s = &*self.shared;
        // A logout that could not be journaled would come back at restart.
        let now = s.clock.now_ms();
        let digest = id.digest_in(ns);
        Ok(self.end(&digest, now, EndReason::Flushed, |e| e.is(&digest)))
    }

    /// Django's `cycle_key`: the same data under a new id; the old id is gone
    /// at once. Counts as activity; the absolute deadline stays where it was.
    pub fn rotate(&self, ns: &Namespace, id: &SessionId) -> Result<SessionInfo, SessionError> {
        let s = &*self.shared;
        let now = s.clock.now_ms();
        let old_digest = id.digest_in(ns);
        let old_key = old_digest.key();
        let entry = match s
            .sessions
            .remove_if(&old_key, |e, _| e.is_live_as(&old_digest, now))
        {
            Some((entry, ())) => entry,
            None => return Err(SessionError::NotFound),
        };
        self.unfile(old_key);
        entry.set_version(entry.version() + 1);
        entry.slide(now);
        let at = visit_at(entry.deadline(), now);
        entry.indexed.store(at, Ordering::Relaxed);
        let (key, out) = loop {
            let new_id = SessionId::generate();
            let digest = new_id.digest_in(ns);
            match s.sessions.entry(entry.renamed(digest)) {
                MapEntry::Occupied(_) => continue,
                MapEntry::Vacant(v) => {
                    let out = info(new_id, &entry);
                    let stored = v.insert(());
                    self.emit_rotate(&old_digest, &digest, stored.key());
                    self.publish_ended(entry.namespace(), &old_digest, EndReason::Rotated);
                    break (digest.key(), out);
                }
            }
        };
        if let Some(user) = self.user_of(&entry) {
            s.users.remove(user, old_key);
            s.users.insert(user, key);
        }
        self.file_deadline(at, key);
        s.stats.rotated.fetch_add(1, Ordering::Relaxed);
        Ok(out)
    }

    /// Slides the idle deadline; with `idle_timeout`, first changes the
    /// session's idle timeout (Django's `set_expiry`), which may shorten it.
    pub fn touch(
        &self,
        ns: &Namespace,
        id: &SessionId,
        idle_timeout: Option<Duration>,
    ) -> Result<SessionInfo, SessionError> {
        let s = &*self.shared;
        let now = s.clock.now_ms();
        let digest = id.digest_in(ns);
        let Some(idle) = idle_timeout else {
            let found = self.shared_live(&digest, now)?;
            let entry = found.key();
            entry.slide(now);
            self.emit_slide(&digest, entry);
            return Ok(info(id.clone(), entry));
        };
        let idle = self.checked_idle(Some(idle))?;
        let (out, refile) = self.exclusive(&digest, now, |entry| {
            let idle_ms = idle.as_millis() as u64;
            entry.set_idle_ms(idle_ms);
            entry
                .idle_deadline_ms
                .store(now.saturating_add(idle_ms), Ordering::Relaxed);
            self.emit_deadline(&digest, entry);
            // Filed for later than it is now due: file it sooner. Filed
            // sooner is fine: the reaper files it again when it gets there.
            let at = visit_at(entry.deadline(), now);
            let sooner = at < entry.indexed();
            if sooner {
                entry.indexed.store(at, Ordering::Relaxed);
            }
            Ok((info(id.clone(), entry), sooner.then_some(at)))
        })?;
        if let Some(at) = refile {
            self.unfile(digest.key());
            self.file_deadline(at, digest.key());
        }
        Ok(out)
    }

    /// Sessions held, including expired ones not yet reclaimed.
    pub fn len(&self) -> usize {
        self.shared.count.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sessions held in `ns`, including expired ones not yet reclaimed.
    pub fn namespace_len(&self, ns: &Namespace) -> usize {
        self.shared.namespaces.count(ns)
    }

    /// Counters and gauges for metrics.
    pub fn stats(&self) -> StoreStats {
        self.shared
            .stats
            .snapshot(self.len(), self.shared.data_bytes.load(Ordering::Relaxed))
    }

    /// The live session `digest` names, under its shard's shared lock.
    fn shared_live(
        &self,
        digest: &Digest,
        now: Millis,
    ) -> Result<dashmap::mapref::one::Ref<'_, Entry, ()>, SessionError> {
        self.shared
            .sessions
            .get(&digest.key())
            .filter(|found| found.key().is_live_as(digest, now))
            .ok_or(SessionError::NotFound)
    }

    /// Runs `f` on the live session `digest` names, under its shard's
    /// exclusive lock, where `f` may replace the entry. `NotFound` when
    /// there is no such live session.
    fn exclusive<R>(
        &self,
        digest: &Digest,
        now: Millis,
        f: impl FnOnce(&mut Entry) -> Result<R, SessionError>,
    ) -> Result<R, SessionError> {
        self.exclusive_any(digest, |entry| match entry.is_live(now) {
            true => f(entry),
            false => Err(SessionError::NotFound),
        })
        .unwrap_or(Err(SessionError::NotFound))
    }

    /// Runs `f` on the session `digest` names, live or not, under its
    /// shard's exclusive lock. Entries are the map's keys, which dashmap
    /// hands out only shared, so this goes to the shard's table itself.
    fn exclusive_any<R>(&self, digest: &Digest, f: impl FnOnce(&mut Entry) -> R) -> Option<R> {
        let map = &self.shared.sessions;
        let key = digest.key();
        let mut shard = map.shards()[map.determine_map(&key)].write();
        // The table is hashed with `DigestHasher`, which passes a key
        // through (`memory::tests::the_map_hashes_a_key_as_itself`).
        match shard.get_mut(key, |(e, _)| e.key == key) {
            Some((entry, _)) if entry.is(digest) => Some(f(entry)),
            _ => None,
        }
    }

    /// Files `key` in the expiry index's bucket `at` and wakes the reaper if
    /// this is now the earliest it knows of.
    fn file_deadline(&self, at: Bucket, key: u64) {
        let s = &*self.shared;
        s.expiry.insert(at, key);
        if bucket_due(at) < s.reaper_next.load(Ordering::SeqCst) {
            s.reaper_wake.notify_one();
        }
    }

    /// Notes that the index's key for `key` went stale (the session left
    /// its bucket), and wakes the reaper to compact the index if enough of
    /// it did.
    fn unfile(&self, key: u64) {
        let s = &*self.shared;
        if s.expiry.forget(key) {
            s.reaper_wake.notify_one();
        }
    }

    /// Bookkeeping for an entry just taken out of the map.
    fn forget(&self, entry: &Entry) {
        let s = &*self.shared;
        self.unfile(entry.key);
        self.unindex(entry);
        s.count.fetch_sub(1, Ordering::AcqRel);
        s.namespaces.release(entry.namespace());
        s.data_bytes
            .fetch_sub(entry.data().bytes(), Ordering::Relaxed);
    }
}

fn info(id: SessionId, entry: &Entry) -> SessionInfo {
    SessionInfo {
        id,
        version: entry.version(),
        created_ms: entry.created_ms,
        expires_ms: entry.deadline(),
        idle_timeout: Duration::from_millis(entry.idle_ms()),
    }
}

#[cfg(test)]
mod tests;
