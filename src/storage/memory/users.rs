//! A user's sessions in memory: binding a session to a user, listing a
//! user's sessions by handle, revoking one or all of them, and the
//! per-user limit. Every walk is over the user's own keys in the
//! [`UserIndex`](super::user_index::UserIndex), never over the map.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::user_index::UserKey;
use super::{info, Entry, Memory, NsIndex};
use crate::clock::Millis;
use crate::session::{
    Binding, Digest, Handle, Limit, Namespace, PerUserPolicy, SessionError, SessionId, SessionInfo,
    UserId, UserSession,
};
use crate::storage::watch::EndReason;

impl Memory {
    /// A new session in `ns`, bound to `binding`'s user from the start.
    pub fn create_bound(
        &self,
        ns: &Namespace,
        data: HashMap<String, String>,
        idle_timeout: Option<Duration>,
        binding: &Binding,
    ) -> Result<SessionInfo, SessionError> {
        self.create_with(ns, data, idle_timeout, Some(binding))
    }

    /// Binds the session to `binding`'s user (moving it from any other),
    /// or unbinds it with `None`. Not a change of data: the version stays.
    pub fn bind_user(
        &self,
        ns: &Namespace,
        id: &SessionId,
        binding: Option<Binding>,
    ) -> Result<SessionInfo, SessionError> {
        let s = &*self.shared;
        let now = s.clock.now_ms();
        let digest = id.digest_in(ns);
        let namespace = s.namespaces.index_of(ns).ok_or(SessionError::NotFound)?;
        let after = binding
            .as_ref()
            .map(|b| s.users.key(namespace, b.user.as_str()));
        // Held until the session is in its new user's keys (see create).
        let _admitted = after.map(|user| s.users.admit(user));
        if let Some(b) = &binding {
            let already = self
                .shared_live(&digest, now)?
                .key()
                .binding()
                .is_some_and(|bound| bound.user == b.user.as_str());
            if !already {
                self.make_room_for(namespace, b.user.as_str(), Some(digest.key()))?;
            }
        }
        self.exclusive(&digest, now, |entry| {
            let before = self.user_of(entry);
            let rebound = entry.with_binding(binding.as_ref());
            self.emit_bind(&digest, &rebound);
            *entry = rebound;
            // The index moves under the session's guard, so two binds of one
            // session cannot leave it in the wrong user's keys. Nothing
            // takes a map guard while holding the index's lock.
            if before != after {
                if let Some(user) = before {
                    s.users.remove(user, digest.key());
                }
                if let Some(user) = after {
                    s.users.insert(user, digest.key());
                }
            }
            Ok(info(id.clone(), entry))
        })
    }

    /// The user `id`'s session is bound to, if any.
    pub fn bound_user(
        &self,
        ns: &Namespace,
        id: &SessionId,
    ) -> Result<Option<UserId>, SessionError> {
        let now = self.shared.clock.now_ms();
        let found = self.shared_live(&id.digest_in(ns), now)?;
        Ok(found
            .key()
            .binding()
            .and_then(|b| UserId::parse(b.user).ok()))
    }

    /// The live sessions of `user` in `ns`, most recently active first;
    /// the one `current` names is marked.
    pub fn list_user_sessions(
        &self,
        ns: &Namespace,
        user: &UserId,
        current: Option<&SessionId>,
    ) -> Result<Vec<UserSession>, SessionError> {
        let s = &*self.shared;
        let Some(namespace) = s.namespaces.index_of(ns) else {
            return Ok(Vec::new());
        };
        let now = s.clock.now_ms();
        let current = current.map(|id| id.digest_in(ns));
        let mut out: Vec<UserSession> = self
            .user_entries(namespace, user.as_str(), now, |e| {
                let binding = e.binding();
                let digest = e.digest();
                UserSession {
                    handle: Handle(digest),
                    created_ms: e.created_ms,
                    last_seen_ms: e.last_seen_ms(),
                    expires_ms: e.deadline(),
                    user_agent: binding.map_or_else(String::new, |b| b.user_agent.to_owned()),
                    ip: binding.map_or_else(String::new, |b| b.ip.to_owned()),
                    current: current == Some(digest),
                }
            })
            .into_iter()
            .map(|(_, session)| session)
            .collect();
        UserSession::sort_most_recent_first(&mut out);
        Ok(out)
    }

    /// Ends the session `handle` names in `ns`, if it is there (and, with
    /// `user`, only if bound to that user). `false` when there was no
    /// such live session.
    pub fn revoke_session(
        &self,
        ns: &Namespace,
        handle: &Handle,
        user: Option<&UserId>,
    ) -> Result<bool, SessionError> {
        let s = &*self.shared;
        let Some(namespace) = s.namespaces.index_of(ns) else {
            return Ok(false);
        };
        let digest = handle.0;
        let now = s.clock.now_ms();
        let owned = |e: &Entry| {
            e.is(&digest)
                && e.namespace() == namespace
                && user.is_none_or(|u| e.binding().is_some_and(|b| b.user == u.as_str()))
        };
        Ok(self.end(&digest, now, EndReason::Revoked, owned))
    }

    /// Ends every session of `user` in `ns` but the one `except` names;
    /// answers how many live sessions ended.
    pub fn revoke_user_sessions(
        &self,
        ns: &Namespace,
        user: &UserId,
        except: Option<&SessionId>,
    ) -> Result<u64, SessionError> {
        let s = &*self.shared;
        let Some(namespace) = s.namespaces.index_of(ns) else {
            return Ok(0);
        };
        let now = s.clock.now_ms();
        let except = except.map(|id| id.digest_in(ns));
        let ukey = s.users.key(namespace, user.as_str());
        let mut ended = 0;
        for key in s.users.keys(ukey) {
            let Some(digest) = s.sessions.get(&key).map(|e| e.key().digest()) else {
                s.users.remove(ukey, key);
                continue;
            };
            if Some(digest) == except {
                continue;
            }
            let owned = |e: &Entry| {
                e.is(&digest)
                    && e.namespace() == namespace
                    && e.binding().is_some_and(|b| b.user == user.as_str())
            };
            if self.end(&digest, now, EndReason::Revoked, owned) {
                ended += 1;
            }
        }
        Ok(ended)
    }

    /// Takes the session `digest` names out of the map if `owned` says so,
    /// journals it as a Flush, tells its watchers it ended for `reason`
    /// (or expired, if it had), and does the bookkeeping; whether it was
    /// live.
    pub(super) fn end(
        &self,
        digest: &Digest,
        now: Millis,
        reason: EndReason,
        owned: impl Fn(&Entry) -> bool,
    ) -> bool {
        let s = &*self.shared;
        let Some((entry, ())) = s.sessions.remove_if(&digest.key(), |e, _| owned(e)) else {
            return false;
        };
        self.emit_delete(digest);
        let live = entry.is_live(now);
        let reason = if live { reason } else { EndReason::Expired };
        self.publish_ended(entry.namespace(), digest, reason);
        self.forget(&entry);
        if live {
            s.stats.flushed.fetch_add(1, Ordering::Relaxed);
        } else {
            s.stats.expired.fetch_add(1, Ordering::Relaxed);
        }
        live
    }

    /// `f` of every live session bound to `user` in `namespace`, with its
    /// key. Keys whose session is gone are pruned from the index.
    fn user_entries<T>(
        &self,
        namespace: NsIndex,
        user: &str,
        now: Millis,
        f: impl Fn(&Entry) -> T,
    ) -> Vec<(u64, T)> {
        let s = &*self.shared;
        let ukey = s.users.key(namespace, user);
        let mut out = Vec::new();
        for key in s.users.keys(ukey) {
            let found = s.sessions.get(&key).map(|found| {
                let e = found.key();
                let mine = e.namespace() == namespace
                    && e.is_live(now)
                    && e.binding().is_some_and(|b| b.user == user);
                mine.then(|| f(e))
            });
            match found {
                Some(Some(value)) => out.push((key, value)),
                Some(None) => {}
                // Gone from the map: whoever removed it was about to
                // unindex it, or lost a race doing so.
                None => s.users.remove(ukey, key),
            }
        }
        out
    }

    /// Makes room for one more session of `user` under
    /// `--max-sessions-per-user`: refuses, or ends the user's oldest
    /// sessions, as `--per-user-limit-policy` says. `moving` is a session
    /// being bound that already counts (it is not evicted for itself).
    /// Costs a look at the user's sessions only when the index says the
    /// user may be at the limit.
    pub(super) fn make_room_for(
        &self,
        namespace: NsIndex,
        user: &str,
        moving: Option<u64>,
    ) -> Result<(), SessionError> {
        let s = &*self.shared;
        let max = s.limits.max_sessions_per_user;
        let ukey = s.users.key(namespace, user);
        if !s.users.has_at_least(ukey, max) {
            return Ok(());
        }
        let now = s.clock.now_ms();
        let mut live: Vec<(u64, (Millis, Digest))> = self
            .user_entries(namespace, user, now, |e| (e.created_ms, e.digest()))
            .into_iter()
            .filter(|(key, _)| Some(*key) != moving)
            .collect();
        if live.len() < max {
            return Ok(());
        }
        match s.limits.per_user_policy {
            PerUserPolicy::Refuse => {
                s.stats.refused.fetch_add(1, Ordering::Relaxed);
                Err(SessionError::limit(
                    Limit::UserSessions,
                    "one more session of this user",
                    max,
                ))
            }
            PerUserPolicy::EvictOldest => {
                live.sort_by_key(|(_, (created, digest))| (*created, *digest));
                let excess = live.len() + 1 - max;
                for (_, (_, digest)) in live.into_iter().take(excess) {
                    self.end(&digest, now, EndReason::Revoked, |e| e.is(&digest));
                }
                Ok(())
            }
        }
    }

    /// The index's name for the user `entry` is bound to.
    pub(super) fn user_of(&self, entry: &Entry) -> Option<UserKey> {
        let b = entry.binding()?;
        Some(self.shared.users.key(entry.namespace(), b.user))
    }

    /// Takes an entry just removed from the map out of its user's keys.
    pub(super) fn unindex(&self, entry: &Entry) {
        if let Some(user) = self.user_of(entry) {
            self.shared.users.remove(user, entry.key);
        }
    }

    /// Puts an entry just filed into its user's keys (recovery).
    pub(super) fn index(&self, entry: &Entry) {
        if let Some(user) = self.user_of(entry) {
            self.shared.users.insert(user, entry.key);
        }
    }

    /// Users with keys in the index.
    #[cfg(test)]
    pub(crate) fn indexed_users(&self) -> usize {
        self.shared.users.users()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use super::*;
    use crate::clock::Clock;
    use crate::session::{Limits, Timeouts};

    /// Logins of one user at once, released together by a barrier, round
    /// after round: the per-user limit of 2 holds exactly under either
    /// policy, because the count and the arrival are one step per user.
    /// Answers the most sessions any round created and the most it left.
    fn concurrent_logins(policy: PerUserPolicy) -> (usize, usize) {
        let limits = Limits {
            max_sessions_per_user: 2,
            per_user_policy: policy,
            ..Limits::default()
        };
        let ns = Namespace::DEFAULT;
        let user = UserId::parse("yuan").unwrap();
        let (mut most_created, mut most_live) = (0, 0);
        for _ in 0..300 {
            let store = Memory::new(limits.clone(), Timeouts::default(), Clock::manual(0));
            let start = std::sync::Barrier::new(4);
            let created: usize = std::thread::scope(|scope| {
                let workers: Vec<_> = (0..4)
                    .map(|_| {
                        scope.spawn(|| {
                            let binding = Binding::to(user.clone());
                            start.wait();
                            (0..2)
                                .filter(|_| {
                                    store
                                        .create_bound(&ns, HashMap::new(), None, &binding)
                                        .is_ok()
                                })
                                .count()
                        })
                    })
                    .collect();
                workers.into_iter().map(|w| w.join().unwrap()).sum()
            });
            let live = store.list_user_sessions(&ns, &user, None).unwrap().len();
            most_created = most_created.max(created);
            most_live = most_live.max(live);
        }
        (most_created, most_live)
    }

    #[test]
    fn concurrent_logins_at_the_refuse_limit_never_pass_it() {
        assert_eq!(concurrent_logins(PerUserPolicy::Refuse), (2, 2));
    }

    #[test]
    fn concurrent_logins_under_evict_oldest_leave_exactly_the_limit() {
        assert_eq!(concurrent_logins(PerUserPolicy::EvictOldest), (8, 2));
    }

    #[test]
    fn a_mass_expiry_leaves_no_user_in_the_index() {
        let store = Memory::new(Limits::default(), Timeouts::default(), Clock::manual(0));
        let ns = Namespace::DEFAULT;
        for user in 0..200 {
            let binding = Binding::to(UserId::parse(&format!("user-{user}")).unwrap());
            for _ in 0..3 {
                store
                    .create_bound(&ns, HashMap::new(), Some(Duration::from_secs(60)), &binding)
                    .unwrap();
            }
        }
        assert_eq!(store.indexed_users(), 200);
        store.clock().advance(Duration::from_secs(60));
        while store.purge_expired().more {}
        assert_eq!(store.len(), 0);
        assert_eq!(
            store.indexed_users(),
            0,
            "the reaper unindexed what it reclaimed"
        );
    }
}
