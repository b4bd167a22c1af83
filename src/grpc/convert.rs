//! Proto <-> domain conversions for the gRPC edge.

use std::time::Duration;

use tonic::Status;

use super::pb;
use crate::clock::Millis;
use crate::session::{Binding, SessionId, SessionInfo, UserId, UserSession};

impl From<SessionInfo> for pb::SessionInfo {
    fn from(info: SessionInfo) -> Self {
        pb::SessionInfo {
            id: info.id.into_exposed(),
            version: info.version,
            created_at: Some(timestamp(info.created_ms)),
            expires_at: Some(timestamp(info.expires_ms)),
            idle_timeout: Some(duration(info.idle_timeout)),
        }
    }
}

impl From<UserSession> for pb::UserSessionInfo {
    fn from(s: UserSession) -> Self {
        pb::UserSessionInfo {
            handle: s.handle.to_string(),
            created_at: Some(timestamp(s.created_ms)),
            last_seen: Some(timestamp(s.last_seen_ms)),
            expires_at: Some(timestamp(s.expires_ms)),
            user_agent: s.user_agent,
            ip: s.ip,
            current: s.current,
        }
    }
}

/// A user binding as a request carries it, checked.
pub fn binding(b: pb::UserBinding) -> Result<Binding, Status> {
    Ok(Binding::new(user_id(b.user_id)?, b.user_agent, b.ip)?)
}

pub fn user_id(raw: String) -> Result<UserId, Status> {
    Ok(UserId::parse_owned(raw)?)
}

/// An optional session id: empty means none.
pub fn optional_id(raw: String) -> Result<Option<SessionId>, Status> {
    match raw.is_empty() {
        true => Ok(None),
        false => Ok(Some(SessionId::parse_owned(raw)?)),
    }
}

/// Milliseconds since the epoch as a protobuf `Timestamp`.
pub fn timestamp(ms: Millis) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: (ms / 1000) as i64,
        nanos: ((ms % 1000) * 1_000_000) as i32,
    }
}

/// A `Duration` as protobuf's.
pub fn duration(d: Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: d.as_secs() as i64,
        nanos: d.subsec_nanos() as i32,
    }
}

/// A requested idle timeout: absent means the server default; negative or
/// malformed durations are the caller's mistake.
pub fn idle_timeout(d: Option<prost_types::Duration>) -> Result<Option<Duration>, Status> {
    d.map(|d| {
        Duration::try_from(d).map_err(|e| {
            Status::invalid_argument(format!("idle_timeout is not a valid duration: {e}"))
        })
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_keep_millisecond_precision() {
        let ts = timestamp(1_700_000_000_123);
        assert_eq!(ts.seconds, 1_700_000_000);
        assert_eq!(ts.nanos, 123_000_000);
    }

    #[test]
    fn negative_idle_timeouts_are_invalid() {
        let negative = prost_types::Duration {
            seconds: -5,
            nanos: 0,
        };
        let err = idle_timeout(Some(negative)).unwrap_err();
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
        assert_eq!(idle_timeout(None).unwrap(), None);
    }
}
