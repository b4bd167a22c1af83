"""One exception hierarchy for everything sessiond answers, by meaning.

Every error a call can raise is a :class:`SessiondError`; each gRPC status
the server uses has its own subclass, so callers catch what they can act
on (``except SessionNotFound``) rather than inspecting status codes.
"""

from __future__ import annotations

import grpc


class SessiondError(Exception):
    """Base of every error sessiond's client raises.

    ``code`` is the gRPC status the server (or the transport) answered, and
    ``details`` its message, which names the rule or limit that was hit.
    """

    def __init__(self, message: str, code: grpc.StatusCode | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.details = message


class SessionNotFound(SessiondError):
    """The id is unknown, expired, flushed, rotated away, or another
    namespace's: sessiond does not say which."""


class VersionConflict(SessiondError):
    """``expected_version`` differed: someone changed the session since it
    was read (``ABORTED``)."""


class InvalidArgument(SessiondError):
    """A malformed id, key or JSON value, or an idle timeout outside the
    server's bounds."""


class Unauthenticated(SessiondError):
    """sessiond refused the credentials: no token, or one it does not know."""


class PermissionDenied(SessiondError):
    """The credentials are valid but may not do this (a read-only token)."""


class ResourceExhausted(SessiondError):
    """A limit was hit: value size, session size, keys per session, or
    sessions in the store. The message names the server's limit."""


class Unavailable(SessiondError):
    """sessiond could not be reached, is shutting down, or cannot write its
    journal. The call may or may not have taken effect only for calls that
    are not idempotent (create, set, rotate): those are never retried."""


class DeadlineExceeded(Unavailable):
    """No answer within the call's deadline (``timeout``)."""


#: The name the Django engine's documentation uses for :class:`Unavailable`.
SessiondUnavailable = Unavailable

_BY_CODE: dict[grpc.StatusCode, type[SessiondError]] = {
    grpc.StatusCode.NOT_FOUND: SessionNotFound,
    grpc.StatusCode.ABORTED: VersionConflict,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
}

# What to tell a developer beyond the server's own message, where the status
# alone does not say what to do.
_HINTS: dict[grpc.StatusCode, str] = {
    grpc.StatusCode.UNAUTHENTICATED: "check the token against sessiond's --tokens-file",
    grpc.StatusCode.PERMISSION_DENIED: "a read-only token cannot change sessions",
    grpc.StatusCode.UNAVAILABLE: "is sessiond running and reachable at the target?",
    grpc.StatusCode.DEADLINE_EXCEEDED: "raise the timeout, or check sessiond's health",
}


def from_rpc_error(error: grpc.RpcError, method: str, target: str) -> SessiondError:
    """The exception that means what ``error`` (raised by a call of
    ``method`` to ``target``) means."""
    code: grpc.StatusCode = error.code()
    details: str = error.details() or code.name
    message = f"sessiond {method} at {target}: {code.name}: {details}"
    if hint := _HINTS.get(code):
        message = f"{message} ({hint})"
    return _BY_CODE.get(code, SessiondError)(message, code)
