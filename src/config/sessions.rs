//! What one session may hold and how long it lives: timeouts and limits.

use std::time::Duration;

use clap::ValueEnum;

use super::parse_duration;
use crate::session::{Limits, PerUserPolicy, Timeouts};

/// What a login beyond `--max-sessions-per-user` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PerUserLimitPolicy {
    /// End the user's oldest session to make room.
    EvictOldest,
    /// Refuse the new one (RESOURCE_EXHAUSTED).
    Refuse,
}

#[derive(Debug, Clone, clap::Args)]
pub struct Sessions {
    /// Default idle timeout: activity slides the deadline this far ahead.
    #[arg(long, env = "SESSIOND_IDLE_TIMEOUT", default_value = "14d", value_parser = parse_duration)]
    pub idle_timeout: Duration,

    /// Smallest idle timeout a client may set per session.
    #[arg(long, env = "SESSIOND_MIN_IDLE_TIMEOUT", default_value = "1s", value_parser = parse_duration)]
    pub min_idle_timeout: Duration,

    /// Largest idle timeout a client may set per session.
    #[arg(long, env = "SESSIOND_MAX_IDLE_TIMEOUT", default_value = "366d", value_parser = parse_duration)]
    pub max_idle_timeout: Duration,

    /// Cap on a session's life from creation that activity never extends.
    /// Unset: no cap.
    #[arg(long, env = "SESSIOND_ABSOLUTE_TIMEOUT", value_parser = parse_duration)]
    pub absolute_timeout: Option<Duration>,

    /// Most sessions in the store; creation beyond it is refused.
    #[arg(long, env = "SESSIOND_MAX_SESSIONS", default_value_t = Limits::default().max_sessions)]
    pub max_sessions: usize,

    /// Most sessions in any one namespace, so that one application cannot
    /// fill the store and lock the others out. Unset: only --max-sessions.
    #[arg(long, env = "SESSIOND_MAX_SESSIONS_PER_NAMESPACE")]
    pub max_sessions_per_namespace: Option<usize>,

    /// Most live sessions bound to one user (see BindUser).
    #[arg(long, env = "SESSIOND_MAX_SESSIONS_PER_USER", default_value_t = Limits::default().max_sessions_per_user)]
    pub max_sessions_per_user: usize,

    /// What a binding beyond --max-sessions-per-user does: end the user's
    /// oldest session, or refuse with RESOURCE_EXHAUSTED.
    #[arg(long, env = "SESSIOND_PER_USER_LIMIT_POLICY", value_enum, default_value_t = PerUserLimitPolicy::EvictOldest)]
    pub per_user_limit_policy: PerUserLimitPolicy,

    /// Largest JSON value, in bytes.
    #[arg(long, env = "SESSIOND_MAX_VALUE_BYTES", default_value_t = Limits::default().max_value_bytes)]
    pub max_value_bytes: usize,

    /// Largest session (keys plus values), in bytes.
    #[arg(long, env = "SESSIOND_MAX_SESSION_BYTES", default_value_t = Limits::default().max_session_bytes)]
    pub max_session_bytes: usize,

    /// Most keys in one session.
    #[arg(long, env = "SESSIOND_MAX_KEYS", default_value_t = Limits::default().max_keys)]
    pub max_keys: usize,

    /// Longest key, in bytes.
    #[arg(long, env = "SESSIOND_MAX_KEY_BYTES", default_value_t = Limits::default().max_key_bytes)]
    pub max_key_bytes: usize,
}

impl Sessions {
    pub fn limits(&self) -> Limits {
        Limits {
            max_key_bytes: self.max_key_bytes,
            max_value_bytes: self.max_value_bytes,
            max_session_bytes: self.max_session_bytes,
            max_keys: self.max_keys,
            max_sessions: self.max_sessions,
            max_sessions_per_namespace: self.max_sessions_per_namespace.unwrap_or(usize::MAX),
            max_sessions_per_user: self.max_sessions_per_user,
            per_user_policy: match self.per_user_limit_policy {
                PerUserLimitPolicy::EvictOldest => PerUserPolicy::EvictOldest,
                PerUserLimitPolicy::Refuse => PerUserPolicy::Refuse,
            },
        }
    }

    pub fn timeouts(&self) -> Timeouts {
        Timeouts {
            default_idle: self.idle_timeout,
            min_idle: self.min_idle_timeout,
            max_idle: self.max_idle_timeout,
            absolute: self.absolute_timeout,
        }
    }

    pub(super) fn validate(&self) -> Result<(), String> {
        let positive = [
            ("--max-sessions", self.max_sessions),
            ("--max-value-bytes", self.max_value_bytes),
            ("--max-session-bytes", self.max_session_bytes),
            ("--max-keys", self.max_keys),
            ("--max-key-bytes", self.max_key_bytes),
            ("--max-sessions-per-user", self.max_sessions_per_user),
        ];
        if let Some((flag, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(format!("{flag} must be at least 1"));
        }
        if self.min_idle_timeout.is_zero() {
            return Err("--min-idle-timeout must be more than 0".into());
        }
        if self.min_idle_timeout > self.max_idle_timeout {
            return Err("--min-idle-timeout must not exceed --max-idle-timeout".into());
        }
        if self.idle_timeout < self.min_idle_timeout || self.idle_timeout > self.max_idle_timeout {
            return Err(format!(
                "--idle-timeout {} is outside [--min-idle-timeout {}, --max-idle-timeout {}]",
                humantime::format_duration(self.idle_timeout),
                humantime::format_duration(self.min_idle_timeout),
                humantime::format_duration(self.max_idle_timeout),
            ));
        }
        if self.absolute_timeout.is_some_and(|a| a.is_zero()) {
            return Err(
                "--absolute-timeout must be more than 0 (leave it unset for no cap)".into(),
            );
        }
        if self.max_value_bytes > self.max_session_bytes {
            return Err("--max-value-bytes must not exceed --max-session-bytes".into());
        }
        if self.max_sessions_per_namespace == Some(0) {
            return Err("--max-sessions-per-namespace must be at least 1".into());
        }
        Ok(())
    }
}
