//! The domain's one error type; transports map it to their status codes.

use std::time::Duration;

/// A resource a client can grow, and therefore a limit on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Bytes of one JSON value.
    ValueBytes,
    /// Bytes of all keys and values of one session.
    SessionBytes,
    /// Keys in one session.
    Keys,
    /// Sessions in the store.
    Sessions,
    /// Sessions in one namespace.
    NamespaceSessions,
    /// Sessions bound to one user.
    UserSessions,
}

impl Limit {
    /// The setting that raises this limit, so the message says what to change.
    pub fn setting(self) -> &'static str {
        match self {
            Limit::ValueBytes => "max-value-bytes",
            Limit::SessionBytes => "max-session-bytes",
            Limit::Keys => "max-keys",
            Limit::Sessions => "max-sessions",
            Limit::NamespaceSessions => "max-sessions-per-namespace",
            Limit::UserSessions => "max-sessions-per-user",
        }
    }
}

/// Everything that can go wrong with a session operation.
///
/// Messages are for developers: they say what was wrong and what the bound
/// is, and never contain a session id or a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("malformed session id: expected 32 characters of [a-z0-9]")]
    InvalidId,
    /// An id a client chose that is too short (under 128 bits) or not of
    /// the URL-safe alphabet, in a namespace that accepts chosen ids.
    #[error("malformed session id: this namespace accepts client-chosen ids of 22 to 256 characters of [A-Za-z0-9_-] (at least 128 bits)")]
    InvalidChosenId,
    /// A client-chosen id whose 64-bit map key another session holds:
    /// practically never by chance (ids carry at least 128 bits), so
    /// refused rather than let one session shadow another.
    #[error("this session id cannot be used (it collides with a held session); choose another")]
    ChosenIdTaken,
    #[error("invalid key: {0}")]
    InvalidKey(String),
    #[error("value of key {key:?} is not valid JSON: {reason}")]
    InvalidJson { key: String, reason: String },
    #[error("idle timeout {requested:?} is outside the configured bounds [{min:?}, {max:?}]")]
    IdleTimeoutOutOfBounds {
        requested: Duration,
        min: Duration,
        max: Duration,
    },
    #[error("invalid namespace: {0}")]
    InvalidNamespace(String),
    /// A malformed user id, handle or listing metadata.
    #[error("invalid user binding: {0}")]
    InvalidUser(String),
    #[error("session not found (unknown or expired)")]
    NotFound,
    #[error("version mismatch: expected {expected}, session is at {actual}")]
    VersionMismatch { expected: u64, actual: u64 },
    #[error("{0}")]
    Unavailable(&'static str),
    /// The storage backend could not answer (unreachable, timed out,
    /// refused): the request may be retried, here or on another instance.
    /// Transports answer UNAVAILABLE / 503; the message names no session.
    #[error("the session storage is unavailable: {0}")]
    Backend(String),
    #[error("{what} exceeds the limit of {max} ({})", .limit.setting())]
    LimitExceeded {
        limit: Limit,
        what: String,
        max: usize,
    },
}

impl SessionError {
    pub(crate) fn limit(limit: Limit, what: impl Into<String>, max: usize) -> Self {
        SessionError::LimitExceeded {
            limit,
            what: what.into(),
            max,
        }
    }
}
