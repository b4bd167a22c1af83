"""What calls return: plain, immutable Python values, no protobuf."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sessiond.v1 import sessiond_pb2 as pb


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
            id=info.id,
            version=info.version,
            created_at=info.created_at.ToDatetime(tzinfo=timezone.utc),
            expires_at=info.expires_at.ToDatetime(tzinfo=timezone.utc),
            idle_timeout=info.idle_timeout.ToTimedelta(),
        )


@dataclass(frozen=True)
class Session(SessionInfo):
    """A session read by ``get``: its info and its data."""

    #: key -> value, decoded from JSON.
    data: dict[str, Any] = field(default_factory=dict, repr=False)
    #: key -> the JSON text exactly as stored, for callers that compare or
    #: forward values without decoding them.
    raw: dict[str, str] = field(default_factory=dict, repr=False)
