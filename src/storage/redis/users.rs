//! A user's sessions on Redis: bindings, the per-user index, listings by
//! handle, revocation and the per-user limit.
//!
//! The index of a user is a sorted set at `sessiond:u:{<hash of namespace
//! and user>}`, its own hash tag, so in a Cluster it is in another slot
//! than the sessions it names, and no script can change both at once. Its
//! members are `<digest>:<epoch>` (scored by when they were added): the
//! session's hash records its user and the epoch of that binding, fresh
//! for every binding. The order of every operation keeps the index stale
//! in the safe direction only:
//!
//! - a session is put in the index *before* it is created bound, bound,
//!   or (Rotate) copied under its new id, so a live bound session is always
//!   findable, even if sessiond dies between the two steps;
//! - a member is taken out only once an answer proves it stale: its
//!   session ended (Flush, Revoke, eviction, the old id of a Rotate) or
//!   was rebound or unbound (the script answers the binding it replaced),
//!   or a reader finds its session missing or bound otherwise and the
//!   member is older than any step can take ([`Redis::index_grace`]: a
//!   younger one may be a Create or BindUser in flight, whose binding
//!   follows its member within one call). A stale member stays stale,
//!   since epochs never repeat, so removing it never races with a
//!   re-binding;
//! - sessions Redis expired, and those ClearSessions deleted, stay in the
//!   index until a listing, a revocation or the per-user limit meets them.
//!
//! Every walk reads the user's members (one ZRANGE) and then each of their
//! sessions (one small script each, in batches at once): a user's calls
//! cost O(their sessions), never a scan.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::future::join_all;
use redis::Value;
use sha2::{Digest as _, Sha256};

use super::{found, info, key, malformed, millis, scripts, Redis, KEY_PREFIX};
use crate::clock::Millis;
use crate::session::{
    Binding, Digest, Handle, Limit, Namespace, PerUserPolicy, SessionError, SessionId, SessionInfo,
    UserId, UserSession,
};

/// Sessions looked at, or revoked, at once in a walk of an index: enough
/// to fill the pipe, few enough to bound what one walk holds in flight.
const BATCH: usize = 256;

/// Walks a "log out everywhere" makes of the index: a second one catches a
/// session that a Rotate moved to a new id during the first (the new id
/// joins the index before the old one is deleted).
const REVOKE_PASSES: usize = 3;

/// How far apart replicas' clocks may be: a member's age is judged by the
/// clock of whoever reads it, against the one that added it.
const CLOCK_SKEW: Duration = Duration::from_secs(60);

/// The Redis key of `user`'s index in `ns`: 128 bits of SHA-256 of the
/// namespace's name, a NUL and the user id (which may hold any character,
/// `{` included, so it is never put in a key as it is).
pub fn user_key(ns: &Namespace, user: &UserId) -> String {
    let mut hash = Sha256::new();
    hash.update(ns.as_str().as_bytes());
    hash.update([0u8]);
    hash.update(user.as_str().as_bytes());
    let digest = Digest::of(hash.finalize().into());
    format!("{KEY_PREFIX}u:{{{}}}", Handle(digest))
}

/// A member of a user's index.
#[derive(Debug, Clone)]
struct Member {
    digest: Digest,
    /// The binding's epoch, as the session's hash records it.
    epoch: String,
    /// When it was added, ms (the epoch starts with it).
    added_ms: Millis,
    text: String,
}

impl Member {
    /// A member for a binding made `now`, with a fresh epoch.
    fn fresh(digest: Digest, now: Millis) -> Self {
        let epoch = format!("{now}.{:016x}", rand::random::<u64>());
        Self::of(digest, epoch, now)
    }

    fn of(digest: Digest, epoch: String, added_ms: Millis) -> Self {
        let text = format!("{}:{epoch}", Handle(digest));
        Member {
            digest,
            epoch,
            added_ms,
            text,
        }
    }

    /// A member as the index holds it; `None` for one sessiond did not
    /// write.
    fn parse(text: String) -> Option<Self> {
        let (hex, epoch) = text.split_once(':')?;
        let digest = Handle::parse(hex).ok()?.0;
        let added_ms = epoch.split_once('.')?.0.parse().ok()?;
        let epoch = epoch.to_owned();
        Some(Member {
            digest,
            epoch,
            added_ms,
            text,
        })
    }
}

/// A session put in a user's index, for taking it out again.
pub(super) struct Joined {
    ukey: String,
    member: Member,
}

impl Joined {
    /// `digest`'s member of `user`'s index for a binding made `now`, with
    /// a fresh epoch; not added yet.
    pub(super) fn fresh(ns: &Namespace, user: &UserId, digest: Digest, now: Millis) -> Self {
        Joined {
            ukey: user_key(ns, user),
            member: Member::fresh(digest, now),
        }
    }

    /// The epoch the session's hash must record.
    pub(super) fn epoch(&self) -> &str {
        &self.member.epoch
    }
}

/// What `peek.lua` found of a session.
enum Peeked {
    /// No live session (expired, flushed, never created yet).
    Gone,
    /// A Rotate is moving it: its new id is (or will be) in the index.
    Held,
    Live(Look),
}

/// A live session's figures and binding, as a listing shows them.
struct Look {
    created_ms: Millis,
    seen_ms: Millis,
    deadline_ms: Millis,
    namespace: Option<String>,
    user: Option<String>,
    epoch: Option<String>,
    user_agent: String,
    ip: String,
}

impl Look {
    /// Whether the session is bound as `member` says, to `user` in `ns`.
    fn is(&self, ns: &Namespace, user: &UserId, member: &Member) -> bool {
        self.namespace.as_deref() == Some(ns.as_str())
            && self.user.as_deref() == Some(user.as_str())
            && self.epoch.as_deref() == Some(member.epoch.as_str())
    }
}

/// What `revoke.lua` did.
enum Revoked {
    /// Ended a live session, bound to this user and epoch (if any).
    Ended(Option<(String, String)>),
    /// There is a session, not so bound: the member naming it is stale
    /// once settled.
    Other,
    Gone,
}

impl Redis {
    /// How long a member whose session is missing is kept: a Create (or
    /// Rotate) that put it there writes the session within a few calls,
    /// each bounded by the call timeout (the same bound as a Rotate's
    /// hold), read by a clock at most [`CLOCK_SKEW`] away.
    pub fn index_grace(&self) -> Duration {
        self.rotation_hold() + CLOCK_SKEW
    }

    /// Puts the session `digest` names in `user`'s index (before it is
    /// bound), making room first under `--max-sessions-per-user`; the
    /// session itself already counts if it is the user's. `absolute` is the
    /// session's absolute deadline, which the index then outlives.
    pub(super) async fn join_index(
        &self,
        ns: &Namespace,
        user: &UserId,
        digest: Digest,
        now: Millis,
        absolute: Option<Millis>,
    ) -> Result<Joined, SessionError> {
        let mut joined = Joined::fresh(ns, user, digest, now);
        let held = self.index_add(&joined, now, absolute).await?;
        if held > self.limits.max_sessions_per_user {
            if let Err(e) = self.make_room(ns, user, &joined.ukey, digest, now).await {
                // Not bound yet: the member names nothing of the user's.
                self.leave_index(&joined).await;
                return Err(e);
            }
            let later = self.clock.now_ms();
            if later.saturating_sub(now) > millis(self.timeout) {
                // The walk took long: the binding must follow its member
                // within the grace, so it gets a fresh one.
                let again = Joined::fresh(ns, user, digest, later);
                self.index_add(&again, later, absolute).await?;
                self.leave_index(&joined).await;
                joined = again;
            }
        }
        Ok(joined)
    }

    /// ZADDs `joined`'s member; answers how many the index holds.
    pub(super) async fn index_add(
        &self,
        joined: &Joined,
        now: Millis,
        absolute: Option<Millis>,
    ) -> Result<usize, SessionError> {
        let ttl = absolute.map(|a| {
            a.saturating_sub(now)
                .saturating_add(millis(self.index_grace()))
                .to_string()
        });
        let mut call = scripts::INDEX_ADD.key(&joined.ukey);
        call.arg(&joined.member.text)
            .arg(now)
            .arg(ttl.unwrap_or_default());
        let answer = self
            .call(&self.series.users, self.connection.invoke(&call))
            .await?;
        let held = scripts::int(&answer).map_err(malformed)?;
        Ok(usize::try_from(held).unwrap_or(0))
    }

    /// Takes a member whose session is proven not bound by it out of its
    /// index. Best effort: a member left behind is stale, and removed by
    /// the next walk that meets it.
    pub(super) async fn leave_index(&self, joined: &Joined) {
        let member = [joined.member.text.clone()];
        self.index_remove(&joined.ukey, &member).await;
    }

    /// Takes out of the index the member that bound the session `digest`
    /// to a user, as a script answered the binding (an ended or rebound
    /// session's previous one: user and epoch).
    pub(super) async fn unindex(
        &self,
        ns: &Namespace,
        digest: Digest,
        binding: Option<(String, String)>,
    ) {
        let Some((user, epoch)) = binding else {
            return;
        };
        let Ok(user) = UserId::parse_owned(user) else {
            return;
        };
        let joined = Joined {
            ukey: user_key(ns, &user),
            member: Member::of(digest, epoch, 0),
        };
        self.leave_index(&joined).await;
    }

    async fn index_remove(&self, ukey: &str, members: &[String]) {
        if members.is_empty() {
            return;
        }
        let mut zrem = redis::cmd("ZREM");
        zrem.arg(ukey).arg(members);
        let _ = self
            .call(&self.series.users, self.connection.command(&zrem))
            .await;
    }

    /// Every member of the index at `ukey`; ones sessiond did not write
    /// come second, for removal.
    async fn index_members(&self, ukey: &str) -> Result<(Vec<Member>, Vec<String>), SessionError> {
        let mut zrange = redis::cmd("ZRANGE");
        zrange.arg(ukey).arg(0).arg(-1);
        let answer = self
            .call(&self.series.users, self.connection.command(&zrange))
            .await?;
        let (mut members, mut foreign) = (Vec::new(), Vec::new());
        for item in scripts::array(answer).map_err(malformed)? {
            let Some(text) = scripts::opt_text(&item).map_err(malformed)? else {
                continue;
            };
            match Member::parse(text.clone()) {
                Some(member) => members.push(member),
                None => foreign.push(text),
            }
        }
        Ok((members, foreign))
    }

    /// Whether a member whose session is missing has been so for longer
    /// than any step that added it can take.
    fn settled(&self, member: &Member, now: Millis) -> bool {
        now >= member.added_ms.saturating_add(millis(self.index_grace()))
    }

    async fn peek(&self, digest: &Digest, now: Millis) -> Result<Peeked, SessionError> {
        let mut call = scripts::PEEK.key(key(digest));
        call.arg(now);
        let answer = self
            .call(&self.series.users, self.connection.invoke(&call))
            .await?;
        let items = scripts::array(answer).map_err(malformed)?;
        match scripts::status(&items).map_err(malformed)? {
            1 => {}
            3 => return Ok(Peeked::Held),
            _ => return Ok(Peeked::Gone),
        }
        let [_, created, seen, deadline, namespace, user, epoch, user_agent, ip] = &items[..]
        else {
            return Err(malformed(scripts::Malformed));
        };
        let figure = |v: &Value| {
            scripts::int(v)
                .ok()
                .and_then(|n| u64::try_from(n).ok())
                .ok_or_else(|| malformed(scripts::Malformed))
        };
        let text = |v: &Value| scripts::opt_text(v).map_err(malformed);
        Ok(Peeked::Live(Look {
            created_ms: figure(created)?,
            seen_ms: figure(seen)?,
            deadline_ms: figure(deadline)?,
            namespace: text(namespace)?,
            user: text(user)?,
            epoch: text(epoch)?,
            user_agent: text(user_agent)?.unwrap_or_default(),
            ip: text(ip)?.unwrap_or_default(),
        }))
    }

    /// Ends the session `digest` names in `ns` if it is live and bound to
    /// `user` (any, with `None`) with `epoch` (any, with `None`).
    async fn revoke_one(
        &self,
        ns: &Namespace,
        digest: &Digest,
        user: Option<&UserId>,
        epoch: Option<&str>,
        now: Millis,
    ) -> Result<Revoked, SessionError> {
        let mut call = scripts::REVOKE.key(key(digest));
        call.arg(now)
            .arg(ns.as_str())
            .arg(user.map_or("", UserId::as_str))
            .arg(epoch.unwrap_or(""));
        let answer = self
            .call(&self.series.users, self.connection.invoke(&call))
            .await?;
        let items = scripts::array(answer).map_err(malformed)?;
        Ok(match scripts::status(&items).map_err(malformed)? {
            1 => {
                self.flushed.fetch_add(1, Ordering::Relaxed);
                Revoked::Ended(binding_at(&items, 1))
            }
            2 => Revoked::Other,
            _ => Revoked::Gone,
        })
    }

    /// The live sessions the index of `user` names, each with its look;
    /// stale members are removed on the way.
    async fn walk_index(
        &self,
        ns: &Namespace,
        user: &UserId,
        ukey: &str,
        now: Millis,
    ) -> Result<Vec<(Member, Look)>, SessionError> {
        let (members, mut stale) = self.index_members(ukey).await?;
        let mut live = Vec::new();
        for batch in members.chunks(BATCH) {
            let peeks = join_all(batch.iter().map(|m| self.peek(&m.digest, now))).await;
            for (member, peeked) in batch.iter().zip(peeks) {
                match peeked? {
                    Peeked::Live(look) if look.is(ns, user, member) => {
                        live.push((member.clone(), look));
                    }
                    // Not (or no longer) bound as the member says: stale
                    // once settled, else perhaps a binding in flight.
                    Peeked::Live(_) | Peeked::Gone if self.settled(member, now) => {
                        stale.push(member.text.clone());
                    }
                    Peeked::Live(_) | Peeked::Gone | Peeked::Held => {}
                }
            }
        }
        self.index_remove(ukey, &stale).await;
        Ok(live)
    }

    /// Makes room for one more session of `user` under
    /// `--max-sessions-per-user`: refuses, or ends the user's oldest
    /// sessions, as `--per-user-limit-policy` says. `moving` is the session
    /// being bound, which is never evicted for itself.
    async fn make_room(
        &self,
        ns: &Namespace,
        user: &UserId,
        ukey: &str,
        moving: Digest,
        now: Millis,
    ) -> Result<(), SessionError> {
        let max = self.limits.max_sessions_per_user;
        let mut live: Vec<(Member, Look)> = self
            .walk_index(ns, user, ukey, now)
            .await?
            .into_iter()
            .filter(|(m, _)| m.digest != moving)
            .collect();
        if live.len() < max {
            return Ok(());
        }
        match self.limits.per_user_policy {
            PerUserPolicy::Refuse => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                Err(SessionError::limit(
                    Limit::UserSessions,
                    "one more session of this user",
                    max,
                ))
            }
            PerUserPolicy::EvictOldest => {
                live.sort_by_key(|(m, look)| (look.created_ms, m.digest));
                // At least one (live.len() >= max), at most all of them.
                let excess = (live.len() + 1).saturating_sub(max).min(live.len());
                let victims = &live[..excess];
                let ended =
                    join_all(victims.iter().map(|(m, _)| {
                        self.revoke_one(ns, &m.digest, Some(user), Some(&m.epoch), now)
                    }))
                    .await;
                let mut stale = Vec::new();
                for ((member, _), ended) in victims.iter().zip(ended) {
                    if let Revoked::Ended(_) = ended? {
                        stale.push(member.text.clone());
                    }
                }
                self.index_remove(ukey, &stale).await;
                Ok(())
            }
        }
    }

    /// A new session in `ns`, bound to `binding`'s user from the start.
    pub async fn create_bound(
        &self,
        ns: &Namespace,
        data: std::collections::HashMap<String, String>,
        idle_timeout: Option<Duration>,
        binding: &Binding,
    ) -> Result<SessionInfo, SessionError> {
        self.create_with(ns, data, idle_timeout, Some(binding))
            .await
    }

    /// Binds the session to `binding`'s user (moving it from any other),
    /// or unbinds it with `None`. Not a change of data: the version stays.
    pub async fn bind_user(
        &self,
        ns: &Namespace,
        id: &SessionId,
        binding: Option<Binding>,
    ) -> Result<SessionInfo, SessionError> {
        let digest = id.digest_in(ns);
        let now = self.clock.now_ms();
        // A session bound now ends by now + the absolute timeout at the
        // latest (it was created no later than now); one created under
        // another setting is answered below and the index kept for it.
        let absolute = self
            .timeouts
            .absolute
            .map(|a| now.saturating_add(millis(a)));
        let joined = match &binding {
            Some(b) => Some(self.join_index(ns, &b.user, digest, now, absolute).await?),
            None => None,
        };
        let mut call = scripts::BIND.key(key(&digest));
        call.arg(now);
        match (&binding, &joined) {
            (Some(b), Some(j)) => call
                .arg(b.user.as_str())
                .arg(j.epoch())
                .arg(&b.user_agent)
                .arg(&b.ip),
            _ => call.arg("").arg("").arg("").arg(""),
        };
        // On a failed call the binding may or may not have happened: the
        // new member stays (stale at worst, never missing).
        let answer = self
            .call(&self.series.users, self.connection.invoke(&call))
            .await?;
        let items = scripts::array(answer).map_err(malformed)?;
        let meta = match found(&items) {
            Ok(meta) => meta,
            Err(e) => {
                if let Some(j) = &joined {
                    self.leave_index(j).await;
                }
                return Err(e);
            }
        };
        self.unindex(ns, digest, binding_at(&items, 5)).await;
        if let (Some(j), Some(own)) = (&joined, items.get(7)) {
            // The session's own absolute deadline, when it outlives the
            // guess the index was given (or it has none).
            let own = scripts::int(own).ok().and_then(|a| u64::try_from(a).ok());
            if absolute.is_some() && own.is_none_or(|own| Some(own) > absolute) {
                self.index_add(j, now, own).await?;
            }
        }
        Ok(info(id.clone(), meta))
    }

    /// The user the live session `id` is bound to, if any.
    pub async fn bound_user(
        &self,
        ns: &Namespace,
        id: &SessionId,
    ) -> Result<Option<UserId>, SessionError> {
        let now = self.clock.now_ms();
        match self.peek(&id.digest_in(ns), now).await? {
            Peeked::Live(look) => Ok(look.user.and_then(|u| UserId::parse_owned(u).ok())),
            Peeked::Gone | Peeked::Held => Err(SessionError::NotFound),
        }
    }

    /// The live sessions of `user` in `ns`, most recently active first;
    /// the one `current` names is marked.
    pub async fn list_user_sessions(
        &self,
        ns: &Namespace,
        user: &UserId,
        current: Option<&SessionId>,
    ) -> Result<Vec<UserSession>, SessionError> {
        let now = self.clock.now_ms();
        let current = current.map(|id| id.digest_in(ns));
        let ukey = user_key(ns, user);
        let mut out: Vec<UserSession> = self
            .walk_index(ns, user, &ukey, now)
            .await?
            .into_iter()
            .map(|(member, look)| UserSession {
                handle: Handle(member.digest),
                created_ms: look.created_ms,
                last_seen_ms: look.seen_ms,
                expires_ms: look.deadline_ms,
                user_agent: look.user_agent,
                ip: look.ip,
                current: current == Some(member.digest),
            })
            .collect();
        UserSession::sort_most_recent_first(&mut out);
        Ok(out)
    }

    /// Ends the session `handle` names in `ns`, if it is there (and, with
    /// `user`, only if bound to that user).
    pub async fn revoke_session(
        &self,
        ns: &Namespace,
        handle: &Handle,
        user: Option<&UserId>,
    ) -> Result<bool, SessionError> {
        let now = self.clock.now_ms();
        match self.revoke_one(ns, &handle.0, user, None, now).await? {
            Revoked::Ended(binding) => {
                self.unindex(ns, handle.0, binding).await;
                Ok(true)
            }
            Revoked::Other | Revoked::Gone => Ok(false),
        }
    }

    /// Ends every session of `user` in `ns` but the one `except` names;
    /// how many live sessions ended.
    pub async fn revoke_user_sessions(
        &self,
        ns: &Namespace,
        user: &UserId,
        except: Option<&SessionId>,
    ) -> Result<u64, SessionError> {
        let now = self.clock.now_ms();
        let except = except.map(|id| id.digest_in(ns));
        let ukey = user_key(ns, user);
        let mut seen: HashSet<String> = HashSet::new();
        let mut ended = 0;
        for _ in 0..REVOKE_PASSES {
            let (members, mut stale) = self.index_members(&ukey).await?;
            let fresh: Vec<Member> = members
                .into_iter()
                .filter(|m| !seen.contains(&m.text) && Some(m.digest) != except)
                .collect();
            if fresh.is_empty() && stale.is_empty() {
                break;
            }
            for batch in fresh.chunks(BATCH) {
                let answers = join_all(
                    batch
                        .iter()
                        .map(|m| self.revoke_one(ns, &m.digest, Some(user), Some(&m.epoch), now)),
                )
                .await;
                for (member, answer) in batch.iter().zip(answers) {
                    match answer? {
                        Revoked::Ended(_) => {
                            ended += 1;
                            stale.push(member.text.clone());
                        }
                        Revoked::Other | Revoked::Gone if self.settled(member, now) => {
                            stale.push(member.text.clone())
                        }
                        Revoked::Other | Revoked::Gone => {}
                    }
                }
            }
            seen.extend(fresh.into_iter().map(|m| m.text));
            self.index_remove(&ukey, &stale).await;
        }
        Ok(ended)
    }
}

/// The user and epoch a script answered at `items[at..at + 2]`: a
/// session's binding before it ended or moved; `None` for an unbound one.
pub(super) fn binding_at(items: &[Value], at: usize) -> Option<(String, String)> {
    let text = |i: usize| items.get(i).and_then(|v| scripts::opt_text(v).ok()?);
    text(at).zip(text(at + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_names_its_digest_and_epoch_and_foreign_ones_are_refused() {
        let digest = SessionId::generate().digest();
        let member = Member::fresh(digest, 1_700_000_000_000);
        let parsed = Member::parse(member.text.clone()).unwrap();
        assert_eq!(parsed.digest, digest);
        assert_eq!(parsed.epoch, member.epoch);
        assert_eq!(parsed.added_ms, 1_700_000_000_000);
        assert_ne!(
            Member::fresh(digest, 0).epoch,
            Member::fresh(digest, 0).epoch
        );
        for bad in ["", "x", "0123:1.2", &format!("{}:nodot", Handle(digest))] {
            assert!(Member::parse(bad.to_owned()).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn a_users_key_is_its_own_hash_tag_whatever_the_user_id_holds() {
        let ns = Namespace::DEFAULT;
        let odd = UserId::parse("a}b{c").unwrap();
        let k = user_key(&ns, &odd);
        assert!(k.starts_with("sessiond:u:{") && k.ends_with('}'), "{k}");
        assert_eq!(k.matches('{').count(), 1);
        assert_ne!(k, user_key(&Namespace::parse("shop").unwrap(), &odd));
        assert_ne!(k, user_key(&ns, &UserId::parse("a}b{d").unwrap()));
    }
}
