//! Bounds on everything a client can make the server hold.

use std::time::Duration;

use super::PerUserPolicy;

/// Size and count limits, checked before anything is applied, so an
/// operation that would cross one changes nothing.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Longest key in bytes (DESIGN.md: 256).
    pub max_key_bytes: usize,
    /// Largest single JSON value in bytes.
    pub max_value_bytes: usize,
    /// Largest session: the sum of its keys' and values' bytes.
    pub max_session_bytes: usize,
    /// Most keys in one session.
    pub max_keys: usize,
    /// Most live sessions in the store; creation beyond it is refused rather
    /// than evicting someone else's login.
    pub max_sessions: usize,
    /// Most live sessions in one namespace, so one application cannot fill
    /// the store and lock the others out. Defaults to `max_sessions`.
    pub max_sessions_per_namespace: usize,
    /// Most live sessions bound to one user, so one account (or a script
    /// logging in in a loop) cannot grow its listing without bound.
    pub max_sessions_per_user: usize,
    /// What a binding beyond `max_sessions_per_user` does.
    pub per_user_policy: PerUserPolicy,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_key_bytes: 256,
            max_value_bytes: 64 * 1024,
            max_session_bytes: 256 * 1024,
            max_keys: 1024,
            max_sessions: 1_000_000,
            max_sessions_per_namespace: usize::MAX,
            max_sessions_per_user: 1000,
            per_user_policy: PerUserPolicy::EvictOldest,
        }
    }
}

/// How long sessions live.
#[derive(Debug, Clone)]
pub struct Timeouts {
    /// Idle timeout of a session that did not ask for its own.
    pub default_idle: Duration,
    /// Smallest idle timeout a client may ask for.
    pub min_idle: Duration,
    /// Largest idle timeout a client may ask for.
    pub max_idle: Duration,
    /// Cap from creation that activity never extends (OWASP); `None` for no cap.
    pub absolute: Option<Duration>,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            default_idle: Duration::from_secs(14 * 24 * 3600),
            min_idle: Duration::from_secs(1),
            max_idle: Duration::from_secs(366 * 24 * 3600),
            absolute: None,
        }
    }
}
