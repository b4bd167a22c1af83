//! Everything the gateway can refuse, and the one place each refusal becomes
//! an HTTP status and a JSON body `{"error": "<code>", "message": "..."}`.

use http::{header, HeaderValue, Method, StatusCode};

use crate::session::{Limit, SessionError};

/// Why a request was refused. Messages are for developers: they say what to
/// fix, and never contain a session id or a session value.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Anything the domain refused: mapped variant by variant below.
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error("no such route; the gateway serves /session, /session/keys/{{key}}, /session/rotate, /sessions, /sessions/{{handle}}, /sessions/revoke-others and /auth")]
    RouteNotFound,
    #[error("method {method} is not allowed here (allowed: {allow})")]
    MethodNotAllowed { method: Method, allow: &'static str },
    #[error("the session has no such key")]
    KeyNotFound,
    /// Not the cookie's session: the caller's user has no live session
    /// with this handle. Kept apart from `session_not_found`, which
    /// expires the cookie.
    #[error("your user has no live session with this handle")]
    HandleNotFound,
    #[error("no valid session cookie")]
    Unauthorized,
    #[error("state-changing requests need Content-Type: application/json or application/merge-patch+json")]
    UnsupportedMediaType,
    #[error("the request's Origin is not allowed to change sessions (see --allowed-origins)")]
    ForbiddenOrigin,
    #[error("the request body is larger than {max} bytes (max-body-bytes)")]
    BodyTooLarge { max: usize },
    #[error("the request's headers are larger than {max} bytes (max-header-bytes)")]
    HeadersTooLarge { max: usize },
    #[error("the request body did not arrive in time")]
    BodyTimeout,
    #[error("{0}")]
    InvalidBody(String),
    #[error("{0}")]
    InvalidHeader(String),
    #[error("{0}")]
    PreconditionFailed(&'static str),
    #[error("sessiond is shutting down; retry on another instance")]
    Unavailable,
}

impl ApiError {
    /// The status a client sees. Nothing a client sends maps to a 5xx: the
    /// only one is 503, while the server drains, when its journal cannot be
    /// written, or when the storage backend cannot answer.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Session(e) => match e {
                SessionError::InvalidId
                | SessionError::InvalidChosenId
                | SessionError::InvalidKey(_)
                | SessionError::InvalidJson { .. }
                | SessionError::InvalidNamespace(_)
                | SessionError::InvalidUser(_)
                | SessionError::IdleTimeoutOutOfBounds { .. } => StatusCode::BAD_REQUEST,
                SessionError::NotFound => StatusCode::NOT_FOUND,
                // The gateway never takes a chosen id; here for completeness.
                SessionError::ChosenIdTaken => StatusCode::CONFLICT,
                SessionError::VersionMismatch { .. } => StatusCode::PRECONDITION_FAILED,
                // A full store is a reason to back off, not a server fault.
                SessionError::LimitExceeded {
                    limit: Limit::Sessions | Limit::NamespaceSessions | Limit::UserSessions,
                    ..
                } => StatusCode::TOO_MANY_REQUESTS,
                SessionError::LimitExceeded { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                SessionError::Unavailable(_) | SessionError::Backend(_) => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
            },
            ApiError::RouteNotFound | ApiError::KeyNotFound | ApiError::HandleNotFound => {
                StatusCode::NOT_FOUND
            }
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::ForbiddenOrigin => StatusCode::FORBIDDEN,
            ApiError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::HeadersTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::InvalidBody(_) | ApiError::InvalidHeader(_) => StatusCode::BAD_REQUEST,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The stable, machine-readable `error` field.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Session(e) => match e {
                SessionError::InvalidId | SessionError::InvalidChosenId => "invalid_id",
                SessionError::ChosenIdTaken => "id_taken",
                SessionError::InvalidKey(_) => "invalid_key",
                SessionError::InvalidJson { .. } => "invalid_json",
                SessionError::IdleTimeoutOutOfBounds { .. }
                | SessionError::InvalidNamespace(_)
                | SessionError::InvalidUser(_) => "invalid_argument",
                SessionError::NotFound => "session_not_found",
                SessionError::VersionMismatch { .. } => "precondition_failed",
                SessionError::LimitExceeded {
                    limit: Limit::Sessions | Limit::NamespaceSessions | Limit::UserSessions,
                    ..
                } => "too_many_sessions",
                SessionError::LimitExceeded { .. } => "too_large",
                SessionError::Unavailable(_) | SessionError::Backend(_) => "unavailable",
            },
            ApiError::RouteNotFound => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::KeyNotFound => "key_not_found",
            ApiError::HandleNotFound => "handle_not_found",
            ApiError::Unauthorized => "unauthorized",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::ForbiddenOrigin => "forbidden_origin",
            ApiError::BodyTooLarge { .. } => "body_too_large",
            ApiError::HeadersTooLarge { .. } => "headers_too_large",
            ApiError::BodyTimeout => "request_timeout",
            ApiError::InvalidBody(_) => "invalid_body",
            ApiError::InvalidHeader(_) => "invalid_header",
            ApiError::PreconditionFailed(_) => "precondition_failed",
            ApiError::Unavailable => "unavailable",
        }
    }

    /// The JSON error body.
    pub fn body(&self) -> String {
        serde_json::json!({ "error": self.code(), "message": self.to_string() }).to_string()
    }

    /// Headers the status itself calls for.
    pub fn headers(&self) -> Vec<(header::HeaderName, HeaderValue)> {
        match self {
            ApiError::MethodNotAllowed { allow, .. } => {
                vec![(header::ALLOW, HeaderValue::from_static(allow))]
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_errors_map_to_the_statuses_of_the_design() {
        let cases = [
            (SessionError::InvalidKey("x".into()), 400, "invalid_key"),
            (SessionError::NotFound, 404, "session_not_found"),
            (
                SessionError::VersionMismatch {
                    expected: 1,
                    actual: 2,
                },
                412,
                "precondition_failed",
            ),
            (
                SessionError::LimitExceeded {
                    limit: Limit::ValueBytes,
                    what: "v".into(),
                    max: 1,
                },
                413,
                "too_large",
            ),
            (
                SessionError::LimitExceeded {
                    limit: Limit::Sessions,
                    what: "the store".into(),
                    max: 1,
                },
                429,
                "too_many_sessions",
            ),
            (
                SessionError::Backend("connection refused".into()),
                503,
                "unavailable",
            ),
        ];
        for (err, status, code) in cases {
            let err = ApiError::from(err);
            assert_eq!(err.status().as_u16(), status, "{err}");
            assert_eq!(err.code(), code);
        }
    }

    #[test]
    fn the_error_body_is_json_with_code_and_message() {
        let body: serde_json::Value =
            serde_json::from_str(&ApiError::UnsupportedMediaType.body()).unwrap();
        assert_eq!(body["error"], "unsupported_media_type");
        assert!(body["message"]
            .as_str()
            .unwrap()
            .contains("application/json"));
    }

    #[test]
    fn no_client_error_is_a_server_error() {
        let errors = [
            ApiError::RouteNotFound,
            ApiError::KeyNotFound,
            ApiError::Unauthorized,
            ApiError::ForbiddenOrigin,
            ApiError::BodyTooLarge { max: 1 },
            ApiError::HeadersTooLarge { max: 1 },
            ApiError::BodyTimeout,
            ApiError::InvalidBody("x".into()),
            ApiError::InvalidHeader("x".into()),
            ApiError::PreconditionFailed("x"),
        ];
        for err in errors {
            assert!(err.status().is_client_error(), "{err:?}");
        }
    }
}
