//! Domain error -> gRPC `Status`, in one place.

use tonic::{Code, Status};

use crate::session::SessionError;

impl From<SessionError> for Status {
    fn from(err: SessionError) -> Self {
        let code = match &err {
            SessionError::InvalidId
            | SessionError::InvalidKey(_)
            | SessionError::InvalidJson { .. }
            | SessionError::IdleTimeoutOutOfBounds { .. } => Code::InvalidArgument,
            SessionError::NotFound => Code::NotFound,
            SessionError::VersionMismatch { .. } => Code::Aborted,
            SessionError::LimitExceeded { .. } => Code::ResourceExhausted,
            SessionError::Unavailable(_) => Code::Unavailable,
        };
        Status::new(code, err.to_string())
    }
}
