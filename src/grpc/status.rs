//! Domain error -> gRPC `Status`, in one place.

use tonic::{Code, Status};

use crate::session::SessionError;

impl From<SessionError> for Status {
    fn from(err: SessionError) -> Self {
        let code = match &err {
            SessionError::InvalidId
            | SessionError::InvalidChosenId
            | SessionError::InvalidKey(_)
            | SessionError::InvalidJson { .. }
            | SessionError::InvalidNamespace(_)
            | SessionError::InvalidUser(_)
            | SessionError::IdleTimeoutOutOfBounds { .. } => Code::InvalidArgument,
            SessionError::NotFound => Code::NotFound,
            SessionError::ChosenIdTaken => Code::AlreadyExists,
            SessionError::VersionMismatch { .. } => Code::Aborted,
            SessionError::LimitExceeded { .. } => Code::ResourceExhausted,
            SessionError::Unavailable(_) | SessionError::Backend(_) => Code::Unavailable,
        };
        Status::new(code, err.to_string())
    }
}

/// The canonical name of a status code (`OK`, `NOT_FOUND`, ...), as gRPC
/// documents it: the `outcome` label of request metrics.
pub(crate) fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}
