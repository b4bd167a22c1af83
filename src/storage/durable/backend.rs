//! The durable backend behind the storage boundary: memory's operations,
//! each answered once it is as durable as `--fsync` promises. With
//! `always` a change resolves only once its journal record is fsynced
//! (batched across requests); otherwise at once. Reads, and a Touch that
//! only slides the deadline, never wait: slides are journaled coarsely
//! (`memory::changes`), so they were never a promise to wait for.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::{FsyncPolicy, Journal, PersistConfig, Persistence, RecoverError};
use crate::clock::Clock;
use crate::session::{
    Binding, Handle, Limits, MergePatch, Namespace, SessionError, SessionId, SessionInfo,
    SessionRead, SetMode, Timeouts, Update, UserId, UserSession,
};
use crate::storage::memory::Memory;
use crate::storage::watch::{Scope, Subscription};
use crate::storage::{Backend, Op, StoreStats};

/// Memory with a journal and snapshots: a cheap `Clone` handle.
#[derive(Clone)]
pub struct Durable {
    memory: Memory,
    /// Set by [`Durable::open`] once recovery has finished: from then on,
    /// changes wait for it and are refused once it has failed.
    journal: Arc<OnceLock<Journal>>,
}

impl Durable {
    /// `memory` (empty), to be recovered into by [`Self::open`]. Until then
    /// it answers as memory does: nothing is served before recovery.
    pub fn new(memory: Memory) -> Self {
        Durable {
            memory,
            journal: Arc::new(OnceLock::new()),
        }
    }

    /// Recovers `config.dir` into memory, then journals every change.
    /// Blocking: run it off the async threads.
    pub fn open(&self, config: PersistConfig) -> Result<Arc<Persistence>, RecoverError> {
        let persistence = Persistence::open(&self.memory, config)?;
        let _ = self.journal.set(persistence.journal().clone());
        Ok(persistence)
    }

    /// The map underneath, for the reaper.
    pub fn memory(&self) -> &Memory {
        &self.memory
    }

    /// Runs `op`, a change, unless the journal has failed, and answers once
    /// the change is as durable as the policy says.
    fn change<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Memory) -> Result<T, SessionError>,
    ) -> Op<T> {
        let journal = self.journal.get();
        if journal.is_some_and(Journal::has_failed) {
            return Op::ready(Err(journal_failed()));
        }
        let result = op(&self.memory);
        match (result, journal) {
            (Ok(value), Some(journal)) if journal.policy() == FsyncPolicy::Always => {
                let journal = journal.clone();
                Op::boxed(async move {
                    match journal.wait_synced().await {
                        true => Ok(value),
                        false => Err(journal_failed()),
                    }
                })
            }
            (result, _) => Op::ready(result),
        }
    }
}

impl Backend for Durable {
    fn clock(&self) -> &Clock {
        self.memory.clock()
    }

    fn limits(&self) -> &Limits {
        self.memory.limits()
    }

    fn timeouts(&self) -> &Timeouts {
        self.memory.timeouts()
    }

    fn create(
        &self,
        ns: &Namespace,
        data: HashMap<String, String>,
        idle_timeout: Option<Duration>,
    ) -> Op<SessionInfo> {
        self.change(|m| m.create(ns, data, idle_timeout))
    }

    fn read(
        &self,
        ns: &Namespace,
        id: Cow<'_, SessionId>,
        keys: Vec<String>,
        touch: bool,
    ) -> Op<SessionRead> {
        Backend::read(&self.memory, ns, id, keys, touch)
    }

    fn set(&self, ns: &Namespace, id: &SessionId, update: Update) -> Op<SessionInfo> {
        self.change(|m| m.set(ns, id, update))
    }

    fn set_with(
        &self,
        ns: &Namespace,
        id: &SessionId,
        update: Update,
        mode: SetMode,
    ) -> Op<SessionInfo> {
        self.change(|m| m.set_with(ns, id, update, mode))
    }

    fn count(&self, ns: &Namespace) -> Op<u64> {
        Op::ready(Ok(self.memory.count(ns)))
    }

    fn clear(&self, ns: &Namespace) -> Op<u64> {
        self.change(|m| Ok(m.clear(ns)))
    }

    fn merge(
        &self,
        ns: &Namespace,
        id: &SessionId,
        patch: &MergePatch,
        versions: Option<&[u64]>,
    ) -> Op<SessionRead> {
        self.change(|m| m.merge(ns, id, patch, versions))
    }

    fn flush(&self, ns: &Namespace, id: &SessionId) -> Op<bool> {
        // A logout that could not be journaled would come back at restart.
        self.change(|m| m.flush(ns, id))
    }

    fn rotate(&self, ns: &Namespace, id: &SessionId) -> Op<SessionInfo> {
        self.change(|m| m.rotate(ns, id))
    }

    fn touch(
        &self,
        ns: &Namespace,
        id: &SessionId,
        idle_timeout: Option<Duration>,
    ) -> Op<SessionInfo> {
        match idle_timeout {
            None => Op::ready(self.memory.touch(ns, id, None)),
            Some(_) => self.change(|m| m.touch(ns, id, idle_timeout)),
        }
    }

    fn create_bound(
        &self,
        ns: &Namespace,
        data: HashMap<String, String>,
        idle_timeout: Option<Duration>,
        binding: Binding,
    ) -> Op<SessionInfo> {
        self.change(|m| m.create_bound(ns, data, idle_timeout, &binding))
    }

    fn bind_user(
        &self,
        ns: &Namespace,
        id: &SessionId,
        binding: Option<Binding>,
    ) -> Op<SessionInfo> {
        self.change(|m| m.bind_user(ns, id, binding))
    }

    fn bound_user(&self, ns: &Namespace, id: &SessionId) -> Op<Option<UserId>> {
        Op::ready(self.memory.bound_user(ns, id))
    }

    fn list_user_sessions(
        &self,
        ns: &Namespace,
        user: &UserId,
        current: Option<&SessionId>,
    ) -> Op<Vec<UserSession>> {
        Op::ready(self.memory.list_user_sessions(ns, user, current))
    }

    fn revoke_session(&self, ns: &Namespace, handle: &Handle, user: Option<&UserId>) -> Op<bool> {
        // A revocation that could not be journaled would come back at
        // restart, like a logout.
        self.change(|m| m.revoke_session(ns, handle, user))
    }

    fn revoke_user_sessions(
        &self,
        ns: &Namespace,
        user: &UserId,
        except: Option<&SessionId>,
    ) -> Op<u64> {
        self.change(|m| m.revoke_user_sessions(ns, user, except))
    }

    fn len(&self) -> usize {
        self.memory.len()
    }

    fn namespace_len(&self, ns: &Namespace) -> usize {
        self.memory.namespace_len(ns)
    }

    fn stats(&self) -> StoreStats {
        self.memory.stats()
    }

    /// Memory's: a watcher is told of a change when memory makes it, which
    /// under `--fsync always` is before the fsync that makes it durable.
    fn watch(
        &self,
        ns: &Namespace,
        scope: Scope,
        buffer: usize,
    ) -> Option<Result<Subscription, SessionError>> {
        Some(self.memory.watch(ns, scope, buffer))
    }
}

fn journal_failed() -> SessionError {
    SessionError::Unavailable("the journal cannot be written; changes are refused until sessiond is restarted with a working --data-dir")
}
