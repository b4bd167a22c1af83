"""How a client reaches sessiond: target, credentials, deadline, retries.

Shared by the sync and the asyncio client, so both check their settings the
same way and build channels with the same options.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeAlias

import grpc

from sessiond.v1 import sessiond_pb2 as pb

#: The deadline of a call when none is given, in seconds.
DEFAULT_TIMEOUT = 5.0

SERVICE = pb.DESCRIPTOR.services_by_name["SessionService"]

#: RPCs whose repetition cannot do anything a single call would not: the
#: only ones retried on UNAVAILABLE. Create would make a second session,
#: Rotate would fail once its first attempt had killed the old id, and Set
#: could overwrite a change made between two attempts.
IDEMPOTENT = frozenset({"Get", "Touch", "Flush", "CountSessions"})

# host:port, [v6]:port, or the same under a dns: scheme, as grpc parses them.
_TARGET = re.compile(
    r"^(?:dns:(?:///)?)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$"
)
# What an HTTP header value may hold, and so a bearer token.
_TOKEN = re.compile(r"^[\x21-\x7e]+$")

#: A PEM option: a file's path, or the PEM bytes themselves.
Pem: TypeAlias = str | bytes | os.PathLike[str]


class OptionError(ValueError):
    """A client option that cannot work; ``option`` names it, so that the
    Django engine can name the setting it came from."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option


def check_target(target: str) -> str:
    """``target`` if it is ``host:port``; :class:`OptionError` otherwise."""
    match = _TARGET.match(target) if isinstance(target, str) else None
    if not match or not 0 < int(match.group(2)) < 65536:
        raise OptionError("target", f"must be host:port (e.g. 127.0.0.1:50051), not {target!r}")
    return target


def seconds(value: float | timedelta, what: str) -> float:
    """``value`` in seconds, which must be positive."""
    try:
        number = value.total_seconds() if isinstance(value, timedelta) else float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not number > 0:
        raise OptionError(what, f"must be a positive number of seconds, not {value!r}")
    return number


def _pem(value: Pem | None, what: str) -> bytes | None:
    """PEM bytes as given, or read from the file a path names."""
    if value is None or isinstance(value, bytes):
        return value
    try:
        with open(value, "rb") as file:
            return file.read()
    except (OSError, TypeError) as error:
        raise OptionError(what, f"cannot read {value!r}: {error}") from None


def _retry_policy() -> str:
    """The gRPC service config that retries idempotent calls on UNAVAILABLE,
    within each call's own deadline."""
    return json.dumps(
        {
            "methodConfig": [
                {
                    "name": [
                        {"service": SERVICE.full_name, "method": m} for m in sorted(IDEMPOTENT)
                    ],
                    "retryPolicy": {
                        "maxAttempts": 4,
                        "initialBackoff": "0.05s",
                        "maxBackoff": "0.5s",
                        "backoffMultiplier": 2,
                        "retryableStatusCodes": ["UNAVAILABLE"],
                    },
                }
            ]
        }
    )


@dataclass(frozen=True)
class Config:
    """Checked settings of one client, made by :class:`Configured`."""

    target: str
    timeout: float
    metadata: tuple[tuple[str, str], ...] = field(repr=False)
    credentials: grpc.ChannelCredentials | None = field(repr=False)
    options: tuple[tuple[str, str | int], ...]


class Configured:
    """The options both clients take, checked when the client is made (see
    :class:`sessiond.Client`); ``_start`` sets up a client's own state."""

    def __init__(
        self,
        target: str = "127.0.0.1:50051",
        *,
        token: str | None = None,
        timeout: float | timedelta = DEFAULT_TIMEOUT,
        tls: bool | None = None,
        tls_ca: Pem | None = None,
        tls_cert: Pem | None = None,
        tls_key: Pem | None = None,
        tls_server_name: str | None = None,
    ) -> None:
        metadata: tuple[tuple[str, str], ...] = ()
        if token is not None:
            if not isinstance(token, str) or not _TOKEN.match(token):
                raise OptionError("token", "must be non-empty printable ASCII without spaces")
            metadata = (("authorization", f"Bearer {token}"),)
        if (tls_cert is None) != (tls_key is None):
            raise OptionError(
                "tls_cert", "and tls_key go together: a client certificate needs its key"
            )
        wants_tls = any(v is not None for v in (tls_ca, tls_cert, tls_server_name))
        if tls is False and wants_tls:
            raise OptionError("tls", "tls=False contradicts tls_ca/tls_cert/tls_server_name")
        credentials = None
        if tls or wants_tls:
            credentials = grpc.ssl_channel_credentials(
                root_certificates=_pem(tls_ca, "tls_ca"),
                private_key=_pem(tls_key, "tls_key"),
                certificate_chain=_pem(tls_cert, "tls_cert"),
            )
        options: list[tuple[str, str | int]] = [
            ("grpc.enable_retries", 1),
            ("grpc.service_config", _retry_policy()),
            ("grpc.primary_user_agent", "sessiond-python"),
            # Channels otherwise share connections through grpc's global
            # subchannel pool: a child's new channel after fork would then
            # pick up the parent's connection, whose socket grpc refuses in
            # the child ("Wrong file descriptor generation").
            ("grpc.use_local_subchannel_pool", 1),
        ]
        if tls_server_name is not None:
            options.append(("grpc.ssl_target_name_override", tls_server_name))
        self._config = Config(
            target=check_target(target),
            timeout=seconds(timeout, "timeout"),
            metadata=metadata,
            credentials=credentials,
            options=tuple(options),
        )
        self._start()

    def _start(self) -> None:
        raise NotImplementedError

    @property
    def target(self) -> str:
        """Where this client calls sessiond."""
        return self._config.target
