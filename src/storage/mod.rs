//! The storage boundary: what the transports call, whatever holds the
//! sessions.
//!
//! - [`Backend`]: the operations every backend implements, each answering
//!   an [`Op`] that includes its durability: with `--fsync always` a change
//!   resolves only once it is journaled and fsynced, so no caller has a
//!   separate "make it durable" step to remember.
//! - [`Storage`]: the cheap `Clone` handle the transports and `app.rs`
//!   hold; transports never name a backend type.
//! - [`memory`]: the sharded in-memory map with its expiry index and
//!   reaper; knows nothing of files, and tells a [`memory::ChangeSink`]
//!   what changed.
//! - [`durable`]: the journal, snapshots and recovery, wrapping `memory`.
//! - [`redis`]: sessions in Redis / Valkey (standalone or Cluster), shared
//!   by every sessiond replica.
//! - `conformance`: the behaviour every backend must show, run against
//!   each of them.
//!
//! Arrows point one way: transports -> here -> backends -> `session`.
//!
//! A trait object rather than an enum of backends: a backend is then a
//! module of its own (Redis brings a client, scripts and reconnects), not
//! an arm in every operation, and the cost that could have argued for the
//! enum, a boxed future per call, is avoided by `Op::Ready` instead: the
//! in-memory Get pays one indirect call, within noise in BENCHMARKS.md
//! ("Storage boundary").

pub mod durable;
pub mod memory;
mod op;
pub mod redis;
pub mod watch;

#[cfg(test)]
mod conformance;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::session::{
    Binding, Handle, Limits, MergePatch, Namespace, SessionError, SessionId, SessionInfo,
    SessionRead, SetMode, Timeouts, Update, UserId, UserSession,
};

pub use op::Op;
use watch::{Scope, Subscription};

/// The operations of a session store. Every one names the [`Namespace`] it
/// works in: a session exists in its own namespace only. Errors are
/// [`SessionError`](crate::session::SessionError)s; a backend that cannot answer says
/// [`SessionError::Backend`](crate::session::SessionError::Backend), which transports answer as UNAVAILABLE / 503.
pub trait Backend: Send + Sync + 'static {
    fn clock(&self) -> &Clock;
    fn limits(&self) -> &Limits;
    fn timeouts(&self) -> &Timeouts;

    /// A new session in `ns` holding `data`, under a fresh server-generated
    /// id.
    fn create(
        &self,
        ns: &Namespace,
        data: HashMap<String, String>,
        idle_timeout: Option<Duration>,
    ) -> Op<SessionInfo>;

    /// Reads the named keys (all when `keys` is empty). Slides the idle
    /// deadline unless `touch` is false. An owned `id` goes into the
    /// answer's [`SessionInfo`] rather than a copy (BENCHMARKS.md, row 1).
    fn read(
        &self,
        ns: &Namespace,
        id: Cow<'_, SessionId>,
        keys: Vec<String>,
        touch: bool,
    ) -> Op<SessionRead>;

    /// Applies every upsert and removal of `update` atomically, or nothing.
    fn set(&self, ns: &Namespace, id: &SessionId, update: Update) -> Op<SessionInfo>;

    /// [`Self::set`] with what `mode` adds: the whole map replaced
    /// (`replace_all`), a new idle timeout, or, with no live session under
    /// `id`, one created under it (`create_if_missing`, whose namespace
    /// check is the transport's). Every limit of a Create or a Set holds.
    fn set_with(
        &self,
        ns: &Namespace,
        id: &SessionId,
        update: Update,
        mode: SetMode,
    ) -> Op<SessionInfo>;

    /// Live sessions in `ns`. May walk every session held: for
    /// express-session's `length`, not for a hot path.
    fn count(&self, ns: &Namespace) -> Op<u64>;

    /// Deletes every session of `ns`, each as a Flush would; answers how
    /// many were live.
    fn clear(&self, ns: &Namespace) -> Op<u64>;

    /// Read-modify-write in one operation: applies a JSON merge patch to
    /// the session's current values, atomically, and answers the whole
    /// session as it is after. With `versions`, refuses (VersionMismatch)
    /// unless the session is at one of them.
    fn merge(
        &self,
        ns: &Namespace,
        id: &SessionId,
        patch: &MergePatch,
        versions: Option<&[u64]>,
    ) -> Op<SessionRead>;

    /// Deletes the session. Idempotent: `false` when there was no live one.
    fn flush(&self, ns: &Namespace, id: &SessionId) -> Op<bool>;

    /// Django's `cycle_key`: the same data under a new id; the old id is
    /// gone once this answers.
    fn rotate(&self, ns: &Namespace, id: &SessionId) -> Op<SessionInfo>;

    /// Slides the idle deadline; with `idle_timeout`, first changes the
    /// session's idle timeout (Django's `set_expiry`).
    fn touch(
        &self,
        ns: &Namespace,
        id: &SessionId,
        idle_timeout: Option<Duration>,
    ) -> Op<SessionInfo>;

    /// [`Self::create`], bound to `binding`'s user from the start (one
    /// operation: a login that creates its session is listed at once).
    /// Subject to `--max-sessions-per-user`.
    fn create_bound(
        &self,
        ns: &Namespace,
        data: HashMap<String, String>,
        idle_timeout: Option<Duration>,
        binding: Binding,
    ) -> Op<SessionInfo>;

    /// Binds the session to `binding`'s user, moving it from any other, or
    /// unbinds it (`None`). The binding survives Rotate; it is not data,
    /// so the version stays.
    fn bind_user(
        &self,
        ns: &Namespace,
        id: &SessionId,
        binding: Option<Binding>,
    ) -> Op<SessionInfo>;

    /// The user the live session `id` is bound to, if any.
    fn bound_user(&self, ns: &Namespace, id: &SessionId) -> Op<Option<UserId>>;

    /// The live sessions bound to `user` in `ns`, named by handle, most
    /// recently active first; the one `current` names is marked. Never an
    /// expired, flushed or rotated-away session.
    fn list_user_sessions(
        &self,
        ns: &Namespace,
        user: &UserId,
        current: Option<&SessionId>,
    ) -> Op<Vec<UserSession>>;

    /// Ends the session `handle` names in `ns` (with `user`, only if it is
    /// bound to that user). `false` when there was no such live session.
    fn revoke_session(&self, ns: &Namespace, handle: &Handle, user: Option<&UserId>) -> Op<bool>;

    /// Ends every session of `user` in `ns` except the one `except` names
    /// ("log out everywhere else"); answers how many live sessions ended.
    fn revoke_user_sessions(
        &self,
        ns: &Namespace,
        user: &UserId,
        except: Option<&SessionId>,
    ) -> Op<u64>;

    /// Sessions held, including expired ones not yet reclaimed.
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sessions held in `ns`, including expired ones not yet reclaimed.
    fn namespace_len(&self, ns: &Namespace) -> usize;

    /// Counters and gauges for metrics.
    fn stats(&self) -> StoreStats;

    /// Whether reads (`read`, and `touch` without a new idle timeout)
    /// always answer [`Op::Ready`], so a transport may answer them without
    /// a future. True for memory; a backend across the network says false.
    fn reads_at_once(&self) -> bool {
        true
    }

    /// Subscribes to the changes and ends of sessions in `ns` (Watch), with
    /// room for `buffer` events not yet taken. `None`: this backend cannot
    /// feed a Watch.
    fn watch(
        &self,
        _ns: &Namespace,
        _scope: Scope,
        _buffer: usize,
    ) -> Option<Result<Subscription, SessionError>> {
        None
    }

    /// Whether the backend can serve now: a backend across the network
    /// asks its server (within its call timeout), and health and readiness
    /// follow the answer. Memory is always there.
    fn ping(&self) -> Op<()> {
        Op::ready(Ok(()))
    }
}

/// The handle on the storage the transports call: a cheap `Clone`, one
/// pointer.
#[derive(Clone)]
pub struct Storage(Arc<dyn Backend>);

impl Storage {
    pub fn new(backend: impl Backend) -> Self {
        Storage(Arc::new(backend))
    }

    pub fn clock(&self) -> &Clock {
        self.0.clock()
    }

    pub fn limits(&self) -> &Limits {
        self.0.limits()
    }

    pub fn timeouts(&self) -> &Timeouts {
        self.0.timeouts()
    }

    /// See [`Backend::create`].
    pub fn create(
        &self,
        ns: &Namespace,
        data: HashMap<String, String>,
        idle_timeout: Option<Duration>,
    ) -> Op<SessionInfo> {
        self.0.create(ns, data, idle_timeout)
    }

    /// See [`Backend::read`].
    pub fn read(
        &self,
        ns: &Namespace,
        id: &SessionId,
        keys: Vec<String>,
        touch: bool,
    ) -> Op<SessionRead> {
        self.0.read(ns, Cow::Borrowed(id), keys, touch)
    }

    /// [`Self::read`] of an id the caller has no more use for: the answer's
    /// [`SessionInfo`] takes it rather than a copy.
    pub fn read_owned(
        &self,
        ns: &Namespace,
        id: SessionId,
        keys: Vec<String>,
        touch: bool,
    ) -> Op<SessionRead> {
        self.0.read(ns, Cow::Owned(id), keys, touch)
    }

    /// [`Self::read`], with the data copied out.
    pub fn get(
        &self,
        ns: &Namespace,
        id: &SessionId,
        keys: &[String],
        touch: bool,
    ) -> Op<(SessionInfo, HashMap<String, String>)> {
        self.read(ns, id, keys.to_vec(), touch).map(|read| {
            let data = read.data.to_map();
            (read.info, data)
        })
    }

    /// See [`Backend::set`].
    pub fn set(&self, ns: &Namespace, id: &SessionId, update: Update) -> Op<SessionInfo> {
        self.0.set(ns, id, update)
    }

    /// See [`Backend::set_with`].
    pub fn set_with(
        &self,
        ns: &Namespace,
        id: &SessionId,
        update: Update,
        mode: SetMode,
    ) -> Op<SessionInfo> {
        self.0.set_with(ns, id, update, mode)
    }

    /// See [`Backend::count`].
    pub fn count(&self, ns: &Namespace) -> Op<u64> {
        self.0.count(ns)
    }

    /// See [`Backend::clear`].
    pub fn clear(&self, ns: &Namespace) -> Op<u64> {
        self.0.clear(ns)
    }

    /// See [`Backend::merge`].
    pub fn merge(
        &self,
        ns: &Namespace,
        id: &SessionId,
        patch: &MergePatch,
        versions: Option<&[u64]>,
    ) -> Op<SessionRead> {
        self.0.merge(ns, id, patch, versions)
    }

    /// See [`Backend::flush`].
    pub fn flush(&self, ns: &Namespace, id: &SessionId) -> Op<bool> {
        self.0.flush(ns, id)
    }

    /// See [`Backend::rotate`].
    pub fn rotate(&self, ns: &Namespace, id: &SessionId) -> Op<SessionInfo> {
        self.0.rotate(ns, id)
    }

    /// See [`Backend::touch`].
    pub fn touch(
        &self,
        ns: &Namespace,
        id: &SessionId,
        idle_timeout: Option<Duration>,
    ) -> Op<SessionInfo> {
        self.0.touch(ns, id, idle_timeout)
    }

    /// See [`Backend::create_bound`].
    pub fn create_bound(
        &self,
        ns: &Namespace,
        data: HashMap<String, String>,
        idle_timeout: Option<Duration>,
        binding: Binding,
    ) -> Op<SessionInfo> {
        self.0.create_bound(ns, data, idle_timeout, binding)
    }

    /// See [`Backend::bind_user`].
    pub fn bind_user(
        &self,
        ns: &Namespace,
        id: &SessionId,
        binding: Option<Binding>,
    ) -> Op<SessionInfo> {
        self.0.bind_user(ns, id, binding)
    }

    /// See [`Backend::bound_user`].
    pub fn bound_user(&self, ns: &Namespace, id: &SessionId) -> Op<Option<UserId>> {
        self.0.bound_user(ns, id)
    }

    /// See [`Backend::list_user_sessions`].
    pub fn list_user_sessions(
        &self,
        ns: &Namespace,
        user: &UserId,
        current: Option<&SessionId>,
    ) -> Op<Vec<UserSession>> {
        self.0.list_user_sessions(ns, user, current)
    }

    /// See [`Backend::revoke_session`].
    pub fn revoke_session(
        &self,
        ns: &Namespace,
        handle: &Handle,
        user: Option<&UserId>,
    ) -> Op<bool> {
        self.0.revoke_session(ns, handle, user)
    }

    /// See [`Backend::revoke_user_sessions`].
    pub fn revoke_user_sessions(
        &self,
        ns: &Namespace,
        user: &UserId,
        except: Option<&SessionId>,
    ) -> Op<u64> {
        self.0.revoke_user_sessions(ns, user, except)
    }

    /// See [`Backend::len`].
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// See [`Backend::namespace_len`].
    pub fn namespace_len(&self, ns: &Namespace) -> usize {
        self.0.namespace_len(ns)
    }

    /// See [`Backend::stats`].
    pub fn stats(&self) -> StoreStats {
        self.0.stats()
    }

    /// See [`Backend::reads_at_once`].
    pub fn reads_at_once(&self) -> bool {
        self.0.reads_at_once()
    }

    /// See [`Backend::watch`].
    pub fn watch(
        &self,
        ns: &Namespace,
        scope: Scope,
        buffer: usize,
    ) -> Option<Result<Subscription, SessionError>> {
        self.0.watch(ns, scope, buffer)
    }

    /// See [`Backend::ping`].
    pub fn ping(&self) -> Op<()> {
        self.0.ping()
    }
}

/// A point-in-time reading of the storage.
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
