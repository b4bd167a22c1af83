"""The RPCs of ``sessiond.v1``: their paths, and the requests and results
both clients build and read, so that sync and asyncio differ only in how
they wait.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import Message

from sessiond._config import SERVICE, seconds
from sessiond._types import Session, SessionInfo, UserSession
from sessiond._values import check_keys, encode_values
from sessiond.v1 import sessiond_pb2 as pb


@dataclass(frozen=True)
class Rpc:
    """One method of ``SessionService``, read from the proto's descriptor."""

    name: str
    path: str
    request: type[Message]
    response: type[Message]
    #: The channel's method that makes its stub: ``unary_unary``, or
    #: ``stream_stream`` (Pipeline), ``unary_stream`` (Watch).
    shape: str = "unary_unary"


#: Every RPC of the service, so that one the proto adds is known at once
#: (a test checks each has a method on both clients).
RPCS: dict[str, Rpc] = {
    method.name: Rpc(
        name=method.name,
        path=f"/{SERVICE.full_name}/{method.name}",
        request=getattr(pb, method.input_type.name),
        response=getattr(pb, method.output_type.name),
        shape={"Pipeline": "stream_stream", "Watch": "unary_stream"}.get(
            method.name, "unary_unary"
        ),
    )
    for method in SERVICE.methods
}


def _duration(value: float | timedelta | None, what: str) -> Duration | None:
    if value is None:
        return None
    duration = Duration()
    duration.FromTimedelta(timedelta(seconds=seconds(value, what)))
    return duration


def binding(user_id: str | None, user_agent: str, ip: str) -> pb.UserBinding | None:
    if user_id is None:
        return None
    return pb.UserBinding(user_id=user_id, user_agent=user_agent, ip=ip)


def create(
    data: Mapping[str, str],
    idle_timeout: float | timedelta | None,
    user: pb.UserBinding | None = None,
) -> pb.CreateRequest:
    return pb.CreateRequest(
        data=data, idle_timeout=_duration(idle_timeout, "idle_timeout"), user=user
    )


def bind_user(session_id: str, user: pb.UserBinding | None) -> pb.BindUserRequest:
    return pb.BindUserRequest(id=session_id, user=user)


def list_user_sessions(user_id: str, current_id: str | None) -> pb.ListUserSessionsRequest:
    return pb.ListUserSessionsRequest(user_id=user_id, current_id=current_id or "")


def revoke_session(handle: str, user_id: str | None) -> pb.RevokeSessionRequest:
    return pb.RevokeSessionRequest(handle=handle, user_id=user_id or "")


def revoke_user_sessions(user_id: str, except_id: str | None) -> pb.RevokeUserSessionsRequest:
    return pb.RevokeUserSessionsRequest(user_id=user_id, except_id=except_id or "")


def user_sessions(response: Any) -> list[UserSession]:
    """A ListUserSessions response as :class:`UserSession` values."""
    return [UserSession.from_pb(s) for s in response.sessions]


def get(session_id: str, keys: Iterable[str] | None, no_touch: bool) -> pb.GetRequest:
    return pb.GetRequest(id=session_id, keys=check_keys(keys or ()), no_touch=no_touch)


def set_(
    session_id: str,
    upsert: Mapping[str, str],
    remove: Iterable[str],
    expected_version: int | None,
) -> pb.SetRequest:
    return pb.SetRequest(
        id=session_id, upsert=upsert, remove=check_keys(remove), expected_version=expected_version
    )


def flush(session_id: str) -> pb.FlushRequest:
    return pb.FlushRequest(id=session_id)


def rotate(session_id: str) -> pb.RotateRequest:
    return pb.RotateRequest(id=session_id)


def touch(session_id: str, idle_timeout: float | timedelta | None) -> pb.TouchRequest:
    return pb.TouchRequest(id=session_id, idle_timeout=_duration(idle_timeout, "idle_timeout"))


def encode(data: Mapping[str, Any] | None) -> dict[str, str]:
    """Values as JSON texts; a ``TypeError`` naming the key before any call."""
    return encode_values(data or {})


def info(response: Any) -> SessionInfo:
    """The ``session`` of a Create/Set/Rotate/Touch response."""
    return SessionInfo.from_pb(response.session)


def session(response: pb.GetResponse) -> Session:
    """A Get response as a :class:`Session`."""
    return Session.from_get(response)
