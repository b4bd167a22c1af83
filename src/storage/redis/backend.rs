//! The Redis backend behind the storage boundary: every operation is a
//! network round trip (or three, for Rotate), so every answer is a boxed
//! [`Op`] that owns what it needs.

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::Duration;

use super::{whole, Found, Redis};
use crate::clock::Clock;
use crate::session::{
    Binding, Handle, Limits, MergePatch, Namespace, SessionError, SessionId, SessionInfo,
    SessionRead, SetMode, Timeouts, Update, UserId, UserSession,
};
use crate::storage::{Backend, Op, StoreStats};

impl Backend for Redis {
    fn clock(&self) -> &Clock {
        &self.clock
    }

    fn limits(&self) -> &Limits {
        &self.limits
    }

    fn timeouts(&self) -> &Timeouts {
        &self.timeouts
    }

    fn create(
        &self,
        ns: &Namespace,
        data: HashMap<String, String>,
        idle_timeout: Option<Duration>,
    ) -> Op<SessionInfo> {
        let (this, ns) = (self.clone(), ns.clone());
        Op::boxed(async move { Redis::create(&this, &ns, data, idle_timeout).await })
    }

    fn read(
        &self,
        ns: &Namespace,
        id: Cow<'_, SessionId>,
        keys: Vec<String>,
        touch: bool,
    ) -> Op<SessionRead> {
        let (this, ns, id) = (self.clone(), ns.clone(), id.into_owned());
        Op::boxed(async move {
            let Found { info, fields } = Redis::read(&this, &ns, id, keys, touch).await?;
            Ok(whole(info, fields))
        })
    }

    fn set(&self, ns: &Namespace, id: &SessionId, update: Update) -> Op<SessionInfo> {
        let (this, ns, id) = (self.clone(), ns.clone(), id.clone());
        Op::boxed(async move {
            let (info, _) = Redis::set(&this, &ns, &id, update, &[], false).await?;
            Ok(info)
        })
    }

    fn set_with(
        &self,
        ns: &Namespace,
        id: &SessionId,
        update: Update,
        mode: SetMode,
    ) -> Op<SessionInfo> {
        if mode == SetMode::default() {
            return Backend::set(self, ns, id, update);
        }
        let (this, ns, id) = (self.clone(), ns.clone(), id.clone());
        Op::boxed(async move { Redis::set_with(&this, &ns, &id, update, mode).await })
    }

    fn count(&self, ns: &Namespace) -> Op<u64> {
        let (this, ns) = (self.clone(), ns.clone());
        Op::boxed(async move { Redis::count(&this, &ns).await })
    }

    fn clear(&self, ns: &Namespace) -> Op<u64> {
        let (this, ns) = (self.clone(), ns.clone());
        Op::boxed(async move { Redis::clear(&this, &ns).await })
    }

    fn merge(
        &self,
        ns: &Namespace,
        id: &SessionId,
        patch: &MergePatch,
        versions: Option<&[u64]>,
    ) -> Op<SessionRead> {
        let (this, ns, id) = (self.clone(), ns.clone(), id.clone());
        let (patch, versions) = (patch.clone(), versions.map(<[u64]>::to_vec));
        Op::boxed(async move { Redis::merge(&this, &ns, &id, &patch, versions.as_deref()).await })
    }

    fn flush(&self, ns: &Namespace, id: &SessionId) -> Op<bool> {
        let (this, ns, id) = (self.clone(), ns.clone(), id.clone());
        Op::boxed(async move { Redis::flush(&this, &ns, &id).await })
    }

    fn rotate(&self, ns: &Namespace, id: &SessionId) -> Op<SessionInfo> {
        let (this, ns, id) = (self.clone(), ns.clone(), id.clone());
        Op::boxed(async move { Redis::rotate(&this, &ns, &id).await })
    }

    fn touch(
        &self,
        ns: &Namespace,
        id: &SessionId,
        idle_timeout: Option<Duration>,
    ) -> Op<SessionInfo> {
        let (this, ns, id) = (self.clone(), ns.clone(), id.clone());
        Op::boxed(async move { Redis::touch(&this, &ns, &id, idle_timeout).await })
    }

    /// Keys in Redis at the last health check (DBSIZE): every replica's
    /// sessions, when the database is sessiond's alone.
    fn create_bound(
        &self,
        _ns: &Namespace,
        _data: HashMap<String, String>,
        _idle_timeout: Option<Duration>,
        _binding: Binding,
    ) -> Op<SessionInfo> {
        Op::ready(Err(no_users()))
    }

    fn bind_user(
        &self,
        _ns: &Namespace,
        _id: &SessionId,
        _binding: Option<Binding>,
    ) -> Op<SessionInfo> {
        Op::ready(Err(no_users()))
    }

    fn bound_user(&self, _ns: &Namespace, _id: &SessionId) -> Op<Option<UserId>> {
        Op::ready(Err(no_users()))
    }

    fn list_user_sessions(
        &self,
        _ns: &Namespace,
        _user: &UserId,
        _current: Option<&SessionId>,
    ) -> Op<Vec<UserSession>> {
        Op::ready(Err(no_users()))
    }

    fn revoke_session(
        &self,
        _ns: &Namespace,
        _handle: &Handle,
        _user: Option<&UserId>,
    ) -> Op<bool> {
        Op::ready(Err(no_users()))
    }

    fn revoke_user_sessions(
        &self,
        _ns: &Namespace,
        _user: &UserId,
        _except: Option<&SessionId>,
    ) -> Op<u64> {
        Op::ready(Err(no_users()))
    }

    fn len(&self) -> usize {
        Redis::stats(self).sessions
    }

    /// Not counted per namespace: that would take a scan of every key.
    fn namespace_len(&self, _ns: &Namespace) -> usize {
        0
    }

    fn stats(&self) -> StoreStats {
        Redis::stats(self)
    }

    fn reads_at_once(&self) -> bool {
        false
    }

    fn ping(&self) -> Op<()> {
        let this = self.clone();
        Op::boxed(async move { Redis::ping(&this).await })
    }
}

/// User bindings are not on Redis yet.
fn no_users() -> SessionError {
    SessionError::Unavailable("user bindings are not supported on the Redis backend yet")
}
