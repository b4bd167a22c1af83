//! The memory backend behind the storage boundary: every operation answers
//! at once, as a ready [`Op`], with no allocation and no future to poll.

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::Duration;

use super::Memory;
use crate::clock::Clock;
use crate::session::{
    Binding, Handle, Limits, MergePatch, Namespace, SessionError, SessionId, SessionInfo,
    SessionRead, SetMode, Timeouts, Update, UserId, UserSession,
};
use crate::storage::watch::{Scope, Subscription};
use crate::storage::{Backend, Op, StoreStats};

impl Backend for Memory {
    fn clock(&self) -> &Clock {
        Memory::clock(self)
    }

    fn limits(&self) -> &Limits {
        Memory::limits(self)
    }

    fn timeouts(&self) -> &Timeouts {
        Memory::timeouts(self)
    }

    fn create(
        &self,
        ns: &Namespace,
        data: HashMap<String, String>,
        idle_timeout: Option<Duration>,
    ) -> Op<SessionInfo> {
        Op::ready(Memory::create(self, ns, data, idle_timeout))
    }

    #[inline]
    fn read(
        &self,
        ns: &Namespace,
        id: Cow<'_, SessionId>,
        keys: Vec<String>,
        touch: bool,
    ) -> Op<SessionRead> {
        Op::ready(self.read_as(ns, id, keys, touch))
    }

    fn set(&self, ns: &Namespace, id: &SessionId, update: Update) -> Op<SessionInfo> {
        Op::ready(Memory::set(self, ns, id, update))
    }

    fn set_with(
        &self,
        ns: &Namespace,
        id: &SessionId,
        update: Update,
        mode: SetMode,
    ) -> Op<SessionInfo> {
        Op::ready(Memory::set_with(self, ns, id, update, mode))
    }

    fn count(&self, ns: &Namespace) -> Op<u64> {
        Op::ready(Ok(Memory::count(self, ns)))
    }

    fn clear(&self, ns: &Namespace) -> Op<u64> {
        Op::ready(Ok(Memory::clear(self, ns)))
    }

    fn merge(
        &self,
        ns: &Namespace,
        id: &SessionId,
        patch: &MergePatch,
        versions: Option<&[u64]>,
    ) -> Op<SessionRead> {
        Op::ready(Memory::merge(self, ns, id, patch, versions))
    }

    fn flush(&self, ns: &Namespace, id: &SessionId) -> Op<bool> {
        Op::ready(Memory::flush(self, ns, id))
    }

    fn rotate(&self, ns: &Namespace, id: &SessionId) -> Op<SessionInfo> {
        Op::ready(Memory::rotate(self, ns, id))
    }

    fn touch(
        &self,
        ns: &Namespace,
        id: &SessionId,
        idle_timeout: Option<Duration>,
    ) -> Op<SessionInfo> {
        Op::ready(Memory::touch(self, ns, id, idle_timeout))
    }

    fn create_bound(
        &self,
        ns: &Namespace,
        data: HashMap<String, String>,
        idle_timeout: Option<Duration>,
        binding: Binding,
    ) -> Op<SessionInfo> {
        Op::ready(Memory::create_bound(self, ns, data, idle_timeout, &binding))
    }

    fn bind_user(
        &self,
        ns: &Namespace,
        id: &SessionId,
        binding: Option<Binding>,
    ) -> Op<SessionInfo> {
        Op::ready(Memory::bind_user(self, ns, id, binding))
    }

    fn bound_user(&self, ns: &Namespace, id: &SessionId) -> Op<Option<UserId>> {
        Op::ready(Memory::bound_user(self, ns, id))
    }

    fn list_user_sessions(
        &self,
        ns: &Namespace,
        user: &UserId,
        current: Option<&SessionId>,
    ) -> Op<Vec<UserSession>> {
        Op::ready(Memory::list_user_sessions(self, ns, user, current))
    }

    fn revoke_session(&self, ns: &Namespace, handle: &Handle, user: Option<&UserId>) -> Op<bool> {
        Op::ready(Memory::revoke_session(self, ns, handle, user))
    }

    fn revoke_user_sessions(
        &self,
        ns: &Namespace,
        user: &UserId,
        except: Option<&SessionId>,
    ) -> Op<u64> {
        Op::ready(Memory::revoke_user_sessions(self, ns, user, except))
    }

    fn len(&self) -> usize {
        Memory::len(self)
    }

    fn namespace_len(&self, ns: &Namespace) -> usize {
        Memory::namespace_len(self, ns)
    }

    fn stats(&self) -> StoreStats {
        Memory::stats(self)
    }

    fn watch(
        &self,
        ns: &Namespace,
        scope: Scope,
        buffer: usize,
    ) -> Option<Result<Subscription, SessionError>> {
        Some(Memory::watch(self, ns, scope, buffer))
    }
}
