"""What calls return: plain, immutable Python values, no protobuf."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sessiond._values import decode_values
from sessiond.v1 import sessiond_pb2 as pb

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


# Arithmetic instead of protobuf's ToDatetime/ToTimedelta, which cost a
# third of a Get's decoding.
def _time(ts: Any) -> datetime:
    return _EPOCH + timedelta(seconds=ts.seconds, microseconds=ts.nanos // 1000)


def _duration(d: Any) -> timedelta:
    return timedelta(seconds=d.seconds, microseconds=d.nanos // 1000)


@dataclass(frozen=True)
class SessionInfo:
    """What sessiond says about a session besides its data."""

    #: 32 characters of ``[a-z0-9]``: a secret, like a password. Never log it.
    id: str = field(repr=False)
    #: Grows with every change of data or id; pass it as ``expected_version``.
    version: int
    created_at: datetime
    #: When it expires if untouched: the earlier of the idle and absolute deadlines.
    expires_at: datetime
    idle_timeout: timedelta

    @classmethod
    def from_pb(cls, info: pb.SessionInfo) -> SessionInfo:
        return cls(
            info.id,
            info.version,
            _time(info.created_at),
            _time(info.expires_at),
            _duration(info.idle_timeout),
        )


@dataclass(frozen=True)
class Session(SessionInfo):
    """A session read by ``get``: its info and its data."""

    #: key -> value, decoded from JSON.
    data: dict[str, Any] = field(default_factory=dict, repr=False)
    #: key -> the JSON text exactly as stored, for callers that compare or
    #: forward values without decoding them.
    raw: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_get(cls, response: pb.GetResponse) -> Session:
        info = response.session
        raw = dict(response.data)
        return cls(
            info.id,
            info.version,
            _time(info.created_at),
            _time(info.expires_at),
            _duration(info.idle_timeout),
            decode_values(raw),
            raw,
        )


@dataclass(frozen=True)
class UserSession:
    """One of a user's sessions in a listing. Carries no id: ``handle``
    names it to :meth:`sessiond.Client.revoke_session` and opens nothing."""

    #: 32 hex digits; safe to show in a page.
    handle: str
    created_at: datetime
    #: The last activity (a get, set or touch).
    last_seen: datetime
    expires_at: datetime
    user_agent: str
    ip: str
    #: Whether this is the session whose id was passed as ``current_id``.
    current: bool

    @classmethod
    def from_pb(cls, s: pb.UserSessionInfo) -> UserSession:
        return cls(
            s.handle,
            _time(s.created_at),
            _time(s.last_seen),
            _time(s.expires_at),
            s.user_agent,
            s.ip,
            s.current,
        )
