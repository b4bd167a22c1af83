"""The asyncio client (``grpc.aio``): the same methods as
:class:`sessiond.Client`, awaited.

A ``grpc.aio`` channel belongs to the event loop that opened it, so this
client keeps one channel per loop (and per process): an ASGI worker has one
loop and so one channel; a test runner that starts a loop per test gets a
fresh one each time, and loops that have gone take their channels with them.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any

import grpc
import grpc.aio
from google.protobuf.message import Message

from sessiond import _calls
from sessiond._config import Config, Configured
from sessiond._types import Session, SessionInfo, UserSession
from sessiond.errors import from_rpc_error
from sessiond.v1 import sessiond_pb2 as pb

__all__ = ["Client"]


class _Channel:
    """One loop's channel and its stubs."""

    def __init__(self, config: Config) -> None:
        if config.credentials is None:
            self.channel = grpc.aio.insecure_channel(config.target, options=config.options)
        else:
            self.channel = grpc.aio.secure_channel(
                config.target, config.credentials, options=config.options
            )
        self.pid = os.getpid()
        self.stubs: dict[str, Callable[..., Any]] = {
            rpc.name: getattr(self.channel, rpc.shape)(
                rpc.path,
                request_serializer=rpc.request.SerializeToString,
                response_deserializer=rpc.response.FromString,
            )
            for rpc in _calls.RPCS.values()
        }


class Client(Configured):
    """An asyncio client of sessiond's gRPC API; the options are those of
    :class:`sessiond.Client`. Make one per process and share it."""

    def _start(self) -> None:
        self._channels: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Channel] = (
            weakref.WeakKeyDictionary()
        )

    async def create(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        idle_timeout: float | timedelta | None = None,
        user_id: str | None = None,
        user_agent: str = "",
        ip: str = "",
        timeout: float | None = None,
    ) -> SessionInfo:
        """See :meth:`sessiond.Client.create`."""
        return await self.create_json(
            _calls.encode(data),
            idle_timeout=idle_timeout,
            user_id=user_id,
            user_agent=user_agent,
            ip=ip,
            timeout=timeout,
        )

    async def create_json(
        self,
        data: Mapping[str, str],
        *,
        idle_timeout: float | timedelta | None = None,
        user_id: str | None = None,
        user_agent: str = "",
        ip: str = "",
        timeout: float | None = None,
    ) -> SessionInfo:
        """See :meth:`sessiond.Client.create_json`."""
        request = _calls.create(data, idle_timeout, _calls.binding(user_id, user_agent, ip))
        return _calls.info(await self._call("Create", request, timeout))

    async def get(
        self,
        session_id: str,
        keys: Iterable[str] | None = None,
        *,
        no_touch: bool = False,
        timeout: float | None = None,
    ) -> Session:
        """See :meth:`sessiond.Client.get`."""
        response = await self._call("Get", _calls.get(session_id, keys, no_touch), timeout)
        assert isinstance(response, pb.GetResponse)
        return _calls.session(response)

    async def set(
        self,
        session_id: str,
        upsert: Mapping[str, Any] | None = None,
        remove: Iterable[str] = (),
        *,
        expected_version: int | None = None,
        timeout: float | None = None,
    ) -> SessionInfo:
        """See :meth:`sessiond.Client.set`."""
        return await self.set_json(
            session_id,
            _calls.encode(upsert),
            remove,
            expected_version=expected_version,
            timeout=timeout,
        )

    async def set_json(
        self,
        session_id: str,
        upsert: Mapping[str, str],
        remove: Iterable[str] = (),
        *,
        expected_version: int | None = None,
        timeout: float | None = None,
    ) -> SessionInfo:
        """See :meth:`sessiond.Client.set_json`."""
        request = _calls.set_(session_id, upsert, remove, expected_version)
        return _calls.info(await self._call("Set", request, timeout))

    async def flush(self, session_id: str, *, timeout: float | None = None) -> bool:
        """See :meth:`sessiond.Client.flush`."""
        response = await self._call("Flush", _calls.flush(session_id), timeout)
        assert isinstance(response, pb.FlushResponse)
        return response.existed

    async def rotate(self, session_id: str, *, timeout: float | None = None) -> SessionInfo:
        """See :meth:`sessiond.Client.rotate`."""
        return _calls.info(await self._call("Rotate", _calls.rotate(session_id), timeout))

    async def touch(
        self,
        session_id: str,
        *,
        idle_timeout: float | timedelta | None = None,
        timeout: float | None = None,
    ) -> SessionInfo:
        """See :meth:`sessiond.Client.touch`."""
        return _calls.info(
            await self._call("Touch", _calls.touch(session_id, idle_timeout), timeout)
        )

    async def bind_user(
        self,
        session_id: str,
        user_id: str | None,
        *,
        user_agent: str = "",
        ip: str = "",
        timeout: float | None = None,
    ) -> SessionInfo:
        """See :meth:`sessiond.Client.bind_user`."""
        request = _calls.bind_user(session_id, _calls.binding(user_id, user_agent, ip))
        return _calls.info(await self._call("BindUser", request, timeout))

    async def list_user_sessions(
        self, user_id: str, *, current_id: str | None = None, timeout: float | None = None
    ) -> list[UserSession]:
        """See :meth:`sessiond.Client.list_user_sessions`."""
        request = _calls.list_user_sessions(user_id, current_id)
        return _calls.user_sessions(await self._call("ListUserSessions", request, timeout))

    async def revoke_session(
        self, handle: str, *, user_id: str | None = None, timeout: float | None = None
    ) -> bool:
        """See :meth:`sessiond.Client.revoke_session`."""
        request = _calls.revoke_session(handle, user_id)
        response = await self._call("RevokeSession", request, timeout)
        assert isinstance(response, pb.RevokeSessionResponse)
        return response.existed

    async def revoke_user_sessions(
        self, user_id: str, *, except_id: str | None = None, timeout: float | None = None
    ) -> int:
        """See :meth:`sessiond.Client.revoke_user_sessions`."""
        request = _calls.revoke_user_sessions(user_id, except_id)
        response = await self._call("RevokeUserSessions", request, timeout)
        assert isinstance(response, pb.RevokeUserSessionsResponse)
        return response.revoked

    async def count_sessions(self, *, timeout: float | None = None) -> int:
        """See :meth:`sessiond.Client.count_sessions`."""
        response = await self._call("CountSessions", pb.CountSessionsRequest(), timeout)
        assert isinstance(response, pb.CountSessionsResponse)
        return response.count

    async def clear_sessions(self, *, timeout: float | None = None) -> int:
        """See :meth:`sessiond.Client.clear_sessions`."""
        response = await self._call("ClearSessions", pb.ClearSessionsRequest(), timeout)
        assert isinstance(response, pb.ClearSessionsResponse)
        return response.cleared

    async def pipeline(
        self,
        requests: AsyncIterable[pb.PipelineRequest] | Iterable[pb.PipelineRequest],
        *,
        timeout: float | None = None,
    ) -> AsyncIterator[pb.PipelineResponse]:
        """See :meth:`sessiond.Client.pipeline`."""
        loop = asyncio.get_running_loop()
        channel = self._channels.get(loop)
        if channel is None or channel.pid != os.getpid():
            channel = self._channels[loop] = _Channel(self._config)
        call = channel.stubs["Pipeline"](requests, timeout=timeout, metadata=self._config.metadata)
        try:
            async for reply in call:
                yield reply
        except grpc.RpcError as error:
            raise from_rpc_error(error, "Pipeline", self._config.target) from error

    async def watch(
        self,
        session_ids: Iterable[str] | None = None,
        *,
        timeout: float | None = None,
    ) -> AsyncIterator[pb.WatchEvent]:
        """See :meth:`sessiond.Client.watch`."""
        ids = list(session_ids or [])
        request = pb.WatchRequest(ids=ids, namespace=session_ids is None)
        loop = asyncio.get_running_loop()
        channel = self._channels.get(loop)
        if channel is None or channel.pid != os.getpid():
            channel = self._channels[loop] = _Channel(self._config)
        call = channel.stubs["Watch"](request, timeout=timeout, metadata=self._config.metadata)
        try:
            async for event in call:
                yield event
        except grpc.RpcError as error:
            raise from_rpc_error(error, "Watch", self._config.target) from error

    async def close(self) -> None:
        """Closes the running loop's channel; a later call opens a new one."""
        channel = self._channels.pop(asyncio.get_running_loop(), None)
        if channel is not None and channel.pid == os.getpid():
            await channel.channel.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _call(self, name: str, request: Message, timeout: float | None) -> Message:
        loop = asyncio.get_running_loop()
        channel = self._channels.get(loop)
        if channel is None or channel.pid != os.getpid():
            channel = self._channels[loop] = _Channel(self._config)
        try:
            response: Message = await channel.stubs[name](
                request,
                timeout=self._config.timeout if timeout is None else timeout,
                metadata=self._config.metadata,
            )
        except grpc.RpcError as error:
            raise from_rpc_error(error, name, self._config.target) from error
        return response
