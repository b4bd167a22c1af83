"""The synchronous client: one method per RPC of ``sessiond.v1``."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import timedelta
from types import TracebackType
from typing import Any

import grpc
from google.protobuf.message import Message

from sessiond import _calls
from sessiond._config import Configured
from sessiond._types import Session, SessionInfo, UserSession
from sessiond.errors import from_rpc_error
from sessiond.v1 import sessiond_pb2 as pb


class Client(Configured):
    """A client of sessiond's gRPC API, safe to share between threads.

    Make one per process and keep it: it opens its channel on the first
    call and reuses it. After a ``fork`` (gunicorn's pre-fork workers), the
    child opens a channel of its own on its first call and never touches
    the parent's.

    ``target`` is ``host:port``. ``token`` is sent as a bearer token on every
    call (sessiond's ``--tokens-file``). ``timeout`` (seconds) is the
    deadline of every call unless the call gives its own. TLS is used when
    ``tls`` is true or any ``tls_*`` option is given: ``tls_ca`` is the PEM
    CA that signed the server's certificate (the system's roots when
    omitted), ``tls_cert`` and ``tls_key`` a client certificate for mTLS
    (sessiond's ``--tls-client-ca``: its CN is the namespace), and
    ``tls_server_name`` the name to check the certificate against when it
    differs from the target's host. PEM options are file paths or bytes.

    Get, Touch and Flush are retried (up to 4 attempts, within the deadline)
    when sessiond answers UNAVAILABLE; the other calls never are.
    """

    def _start(self) -> None:
        self._lock = threading.Lock()
        # The process that opened _channel: a forked child must open its own.
        self._pid: int | None = None
        self._channel: grpc.Channel | None = None
        self._stubs: dict[str, Callable[..., Any]] = {}

    def create(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        idle_timeout: float | timedelta | None = None,
        user_id: str | None = None,
        user_agent: str = "",
        ip: str = "",
        timeout: float | None = None,
    ) -> SessionInfo:
        """A new session holding ``data``, with a fresh server-chosen id.
        ``idle_timeout`` unset: the server's default. With ``user_id``, the
        session is bound to that user from the start (see :meth:`bind_user`)."""
        return self.create_json(
            _calls.encode(data),
            idle_timeout=idle_timeout,
            user_id=user_id,
            user_agent=user_agent,
            ip=ip,
            timeout=timeout,
        )

    def create_json(
        self,
        data: Mapping[str, str],
        *,
        idle_timeout: float | timedelta | None = None,
        user_id: str | None = None,
        user_agent: str = "",
        ip: str = "",
        timeout: float | None = None,
    ) -> SessionInfo:
        """:meth:`create` with values already JSON texts (the server validates them)."""
        user = _calls.binding(user_id, user_agent, ip)
        return _calls.info(self._call("Create", _calls.create(data, idle_timeout, user), timeout))

    def get(
        self,
        session_id: str,
        keys: Iterable[str] | None = None,
        *,
        no_touch: bool = False,
        timeout: float | None = None,
    ) -> Session:
        """The session's data (all of it, or only ``keys``). Slides its
        deadline unless ``no_touch``. :class:`SessionNotFound` if unknown."""
        response = self._call("Get", _calls.get(session_id, keys, no_touch), timeout)
        assert isinstance(response, pb.GetResponse)
        return _calls.session(response)

    def set(
        self,
        session_id: str,
        upsert: Mapping[str, Any] | None = None,
        remove: Iterable[str] = (),
        *,
        expected_version: int | None = None,
        timeout: float | None = None,
    ) -> SessionInfo:
        """Upserts and removals applied atomically; with ``expected_version``,
        only if nobody changed the session since (else :class:`VersionConflict`)."""
        return self.set_json(
            session_id,
            _calls.encode(upsert),
            remove,
            expected_version=expected_version,
            timeout=timeout,
        )

    def set_json(
        self,
        session_id: str,
        upsert: Mapping[str, str],
        remove: Iterable[str] = (),
        *,
        expected_version: int | None = None,
        timeout: float | None = None,
    ) -> SessionInfo:
        """:meth:`set` with values already JSON texts."""
        request = _calls.set_(session_id, upsert, remove, expected_version)
        return _calls.info(self._call("Set", request, timeout))

    def flush(self, session_id: str, *, timeout: float | None = None) -> bool:
        """Deletes the session (logout); whether a live one existed. Idempotent."""
        response = self._call("Flush", _calls.flush(session_id), timeout)
        assert isinstance(response, pb.FlushResponse)
        return response.existed

    def rotate(self, session_id: str, *, timeout: float | None = None) -> SessionInfo:
        """The same data under a new id (returned); the old id is dead at once."""
        return _calls.info(self._call("Rotate", _calls.rotate(session_id), timeout))

    def touch(
        self,
        session_id: str,
        *,
        idle_timeout: float | timedelta | None = None,
        timeout: float | None = None,
    ) -> SessionInfo:
        """Slides the deadline; with ``idle_timeout``, changes it first."""
        return _calls.info(self._call("Touch", _calls.touch(session_id, idle_timeout), timeout))

    def bind_user(
        self,
        session_id: str,
        user_id: str | None,
        *,
        user_agent: str = "",
        ip: str = "",
        timeout: float | None = None,
    ) -> SessionInfo:
        """Binds the session to ``user_id`` (moving it from any other user),
        or unbinds it with ``None``. ``user_agent`` and ``ip`` are shown in
        listings. Survives :meth:`rotate`; the version stays."""
        request = _calls.bind_user(session_id, _calls.binding(user_id, user_agent, ip))
        return _calls.info(self._call("BindUser", request, timeout))

    def list_user_sessions(
        self, user_id: str, *, current_id: str | None = None, timeout: float | None = None
    ) -> list[UserSession]:
        """The user's live sessions, most recently active first, named by
        handle; the one ``current_id`` names is marked ``current``."""
        request = _calls.list_user_sessions(user_id, current_id)
        return _calls.user_sessions(self._call("ListUserSessions", request, timeout))

    def revoke_session(
        self, handle: str, *, user_id: str | None = None, timeout: float | None = None
    ) -> bool:
        """Ends the session ``handle`` names (with ``user_id``, only if it is
        that user's); whether a live one ended. Idempotent."""
        response = self._call("RevokeSession", _calls.revoke_session(handle, user_id), timeout)
        assert isinstance(response, pb.RevokeSessionResponse)
        return response.existed

    def revoke_user_sessions(
        self, user_id: str, *, except_id: str | None = None, timeout: float | None = None
    ) -> int:
        """Ends every session of ``user_id`` but ``except_id``'s ("log out
        everywhere else"), in one call; how many ended."""
        request = _calls.revoke_user_sessions(user_id, except_id)
        response = self._call("RevokeUserSessions", request, timeout)
        assert isinstance(response, pb.RevokeUserSessionsResponse)
        return response.revoked

    def count_sessions(self, *, timeout: float | None = None) -> int:
        """How many live sessions this caller's namespace holds."""
        response = self._call("CountSessions", pb.CountSessionsRequest(), timeout)
        assert isinstance(response, pb.CountSessionsResponse)
        return response.count

    def clear_sessions(self, *, timeout: float | None = None) -> int:
        """Ends every session of this caller's namespace (never another's);
        how many ended. Refused (PermissionDenied) for a read-only token."""
        response = self._call("ClearSessions", pb.ClearSessionsRequest(), timeout)
        assert isinstance(response, pb.ClearSessionsResponse)
        return response.cleared

    def pipeline(
        self, requests: Iterable[pb.PipelineRequest], *, timeout: float | None = None
    ) -> Iterator[pb.PipelineResponse]:
        """Sends tagged Get / Set / Touch / Flush requests on one stream and
        yields each reply (with its request's tag) as it comes, in any order.
        A request that fails is answered with an ``error`` reply (a code and
        a message); the stream goes on. Raises a :class:`sessiond.SessiondError`
        only when the stream itself ends with a status. The timeout, if
        any, bounds the whole stream."""
        stub = self._stubs.get("Pipeline") if self._pid == os.getpid() else None
        if stub is None:
            stub = self._connect()["Pipeline"]
        replies = stub(iter(requests), timeout=timeout, metadata=self._config.metadata)
        try:
            yield from replies
        except grpc.RpcError as error:
            raise from_rpc_error(error, "Pipeline", self._config.target) from error

    def watch(
        self,
        session_ids: Iterable[str] | None = None,
        *,
        timeout: float | None = None,
    ) -> Iterator[pb.WatchEvent]:
        """Yields the events of a Watch: of the sessions ``session_ids``
        names (each event names one by its position in that list), or,
        with ``None``, of every session of this caller's namespace (named
        by handle). The first event is ``resync``; see the README's Watch
        section. Raises a :class:`sessiond.SessiondError` when the stream
        ends with a status (``ResourceExhausted``: too slow)."""
        ids = list(session_ids or [])
        request = pb.WatchRequest(ids=ids, namespace=session_ids is None)
        stub = self._stubs.get("Watch") if self._pid == os.getpid() else None
        if stub is None:
            stub = self._connect()["Watch"]
        events = stub(request, timeout=timeout, metadata=self._config.metadata)
        try:
            yield from events
        except grpc.RpcError as error:
            raise from_rpc_error(error, "Watch", self._config.target) from error

    def close(self) -> None:
        """Closes this process's channel; a later call opens a new one."""
        with self._lock:
            channel, self._channel, self._stubs = self._channel, None, {}
            mine = self._pid == os.getpid()
        if channel is not None and mine:
            channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, name: str, request: Message, timeout: float | None) -> Message:
        stub = self._stubs.get(name) if self._pid == os.getpid() else None
        if stub is None:
            stub = self._connect()[name]
        try:
            response: Message = stub(
                request,
                timeout=self._config.timeout if timeout is None else timeout,
                metadata=self._config.metadata,
            )
        except grpc.RpcError as error:
            raise from_rpc_error(error, name, self._config.target) from error
        return response

    def _connect(self) -> dict[str, Callable[..., Any]]:
        """This process's stubs, opening its channel if it has none yet."""
        with self._lock:
            if self._channel is None or self._pid != os.getpid():
                # A channel inherited through fork is left alone: its
                # threads and sockets belong to the parent.
                config = self._config
                if config.credentials is None:
                    channel = grpc.insecure_channel(config.target, options=config.options)
                else:
                    channel = grpc.secure_channel(
                        config.target, config.credentials, options=config.options
                    )
                self._stubs = {
                    rpc.name: getattr(channel, rpc.shape)(
                        rpc.path,
                        request_serializer=rpc.request.SerializeToString,
                        response_deserializer=rpc.response.FromString,
                    )
                    for rpc in _calls.RPCS.values()
                }
                self._channel, self._pid = channel, os.getpid()
            return self._stubs
