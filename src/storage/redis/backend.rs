//! The Redis backend behind the storage boundary: every operation is a
//! network round trip (or three, for Rotate), so every answer is a boxed
//! [`Op`] that owns what it needs.

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::Duration;

use super::{whole, Found, Redis};
use crate::clock::Clock;
use crate::session::{
    Binding, Handle, Limits, MergePatch, Namespace, SessionId, SessionInfo, SessionRead, SetMode,
    Timeouts, Update, UserId, UserSession,
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

    fn create_bound(
        &self,
        ns: &Namespace,
        data: HashMap<String, String>,
        idle_timeout: Option<Duration>,
        binding: Binding,
    ) -> Op<SessionInfo> {
        let (this, ns) = (self.clone(), ns.clone());
        Op::boxed(
            async move { Redis::create_bound(&this, &ns, data, idle_timeout, &binding).await },
        )
    }

    fn bind_user(
        &self,
        ns: &Namespace,
        id: &SessionId,
        binding: Option<Binding>,
    ) -> Op<SessionInfo> {
        let (this, ns, id) = (self.clone(), ns.clone(), id.clone());
        Op::boxed(async move { Redis::bind_user(&this, &ns, &id, binding).await })
    }

    fn bound_user(&self, ns: &Namespace, id: &SessionId) -> Op<Option<UserId>> {
        let (this, ns, id) = (self.clone(), ns.clone(), id.clone());
        Op::boxed(async move { Redis::bound_user(&this, &ns, &id).await })
    }

    fn list_user_sessions(
        &self,
        ns: &Namespace,
        user: &UserId,
        current: Option<&SessionId>,
    ) -> Op<Vec<UserSession>> {
        let (this, ns, user) = (self.clone(), ns.clone(), user.clone());
        let current = current.cloned();
        Op::boxed(
            async move { Redis::list_user_sessions(&this, &ns, &user, current.as_ref()).await },
        )
    }

    fn revoke_session(&self, ns: &Namespace, handle: &Handle, user: Option<&UserId>) -> Op<bool> {
        let (this, ns, handle, user) = (self.clone(), ns.clone(), *handle, user.cloned());
        Op::boxed(async move { Redis::revoke_session(&this, &ns, &handle, user.as_ref()).await })
    }

    fn revoke_user_sessions(
        &self,
        ns: &Namespace,
        user: &UserId,
        except: Option<&SessionId>,
    ) -> Op<u64> {
        let (this, ns, user) = (self.clone(), ns.clone(), user.clone());
        let except = except.cloned();
        Op::boxed(
            async move { Redis::revoke_user_sessions(&this, &ns, &user, except.as_ref()).await },
        )
    }

    /// Keys in Redis at the last health check (DBSIZE): every replica's
    /// sessions (and users' indexes), when the database is sessiond's alone.
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
