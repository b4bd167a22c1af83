//! What a change must pass before it touches the map: its keys and values,
//! its idle timeout, the session's size, and a slot under the session
//! limits (reclaiming expired sessions first, so they never keep a live
//! user out).

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::namespaces::NsIndex;
use super::Memory;
use crate::session::{validate_key, validate_value, Limit, SessionError, Update};

impl Memory {
    /// Validates every key and value of `update`, and sorts and dedups its
    /// removals: a key named twice is removed once (and counted once).
    pub(super) fn checked_update(&self, update: &mut Update) -> Result<(), SessionError> {
        let limits = &self.shared.limits;
        update.remove.sort_unstable();
        update.remove.dedup();
        for (key, value) in &update.upsert {
            validate_key(key, limits)?;
            validate_value(key, value, limits)?;
        }
        for key in &update.remove {
            validate_key(key, limits)?;
            if update.upsert.contains_key(key) {
                return Err(SessionError::InvalidKey(format!(
                    "key {key:?} is both upserted and removed in one request"
                )));
            }
        }
        Ok(())
    }

    pub(super) fn checked_idle(
        &self,
        requested: Option<Duration>,
    ) -> Result<Duration, SessionError> {
        let t = &self.shared.timeouts;
        match requested {
            None => Ok(t.default_idle),
            Some(d) if d >= t.min_idle && d <= t.max_idle => Ok(d),
            Some(d) => Err(SessionError::IdleTimeoutOutOfBounds {
                requested: d,
                min: t.min_idle,
                max: t.max_idle,
            }),
        }
    }

    pub(super) fn check_session_bytes(&self, bytes: usize) -> Result<(), SessionError> {
        let max = self.shared.limits.max_session_bytes;
        if bytes > max {
            return Err(SessionError::limit(
                Limit::SessionBytes,
                format!("session of {bytes} bytes"),
                max,
            ));
        }
        Ok(())
    }

    /// Counts one more session against `max_sessions` and against
    /// `max_sessions_per_namespace` of `namespace`. When either is full,
    /// expired sessions the reaper has not reached yet are reclaimed first,
    /// so they never keep a live user out.
    pub(super) fn reserve_slot(&self, namespace: NsIndex) -> Result<(), SessionError> {
        let s = &*self.shared;
        let max = s.limits.max_sessions;
        let per_namespace = s.limits.max_sessions_per_namespace;
        let try_reserve = || {
            let total = s
                .count
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                    (n < max).then_some(n + 1)
                })
                .is_ok();
            if !total {
                return Some(Limit::Sessions);
            }
            if !s.namespaces.reserve(namespace, per_namespace) {
                s.count.fetch_sub(1, Ordering::AcqRel);
                return Some(Limit::NamespaceSessions);
            }
            None
        };
        if try_reserve().is_none() {
            return Ok(());
        }
        while self.purge_expired().more {}
        let Some(limit) = try_reserve() else {
            return Ok(());
        };
        s.stats.refused.fetch_add(1, Ordering::Relaxed);
        Err(match limit {
            Limit::NamespaceSessions => SessionError::limit(
                limit,
                s.namespaces
                    .with_name(namespace, |name| format!("namespace {name:?}")),
                per_namespace,
            ),
            _ => SessionError::limit(limit, "the store", max),
        })
    }
}
