"""Python client for sessiond, the standalone session server.

``sessiond.Client`` (sync) and ``sessiond.aio.Client`` (asyncio) call every
RPC of ``sessiond.v1``; ``sessiond.django`` is a Django session engine
(``SESSION_ENGINE = "sessiond.django"``). Errors are the classes of
:mod:`sessiond.errors`, re-exported here.
"""

from sessiond._types import Session, SessionInfo, UserSession
from sessiond.client import Client
from sessiond.errors import (
    DeadlineExceeded,
    InvalidArgument,
    PermissionDenied,
    ResourceExhausted,
    SessiondError,
    SessiondUnavailable,
    SessionNotFound,
    Unauthenticated,
    Unavailable,
    VersionConflict,
)

__all__ = [
    "Client",
    "DeadlineExceeded",
    "InvalidArgument",
    "PermissionDenied",
    "ResourceExhausted",
    "Session",
    "SessionInfo",
    "SessionNotFound",
    "SessiondError",
    "SessiondUnavailable",
    "Unauthenticated",
    "Unavailable",
    "UserSession",
    "VersionConflict",
]
