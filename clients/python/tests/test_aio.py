"""The asyncio client against a real sessiond."""

from __future__ import annotations

import asyncio

import pytest
from conftest import Tokens
from server import Server

import sessiond
from sessiond import aio


async def test_every_call_works_and_errors_mean_the_same(server: Server) -> None:
    async with aio.Client(server.grpc_addr) as client:
        info = await client.create({"a": 1}, idle_timeout=600)
        assert (await client.get(info.id)).data == {"a": 1}
        changed = await client.set(info.id, {"b": [2]}, remove=["a"], expected_version=1)
        with pytest.raises(sessiond.VersionConflict):
            await client.set(info.id, {"b": 3}, expected_version=1)
        assert (await client.touch(info.id, idle_timeout=1200)).idle_timeout.total_seconds() == 1200
        rotated = await client.rotate(info.id)
        assert rotated.version > changed.version
        with pytest.raises(sessiond.SessionNotFound):
            await client.get(info.id)
        assert (await client.get(rotated.id, no_touch=True)).data == {"b": [2]}
        assert await client.flush(rotated.id) is True
        assert await client.flush(rotated.id) is False


async def test_a_users_sessions_are_listed_and_revoked(server: Server) -> None:
    async with aio.Client(server.grpc_addr) as client:
        here = await client.create(user_id="aio-user", user_agent="Here")
        other = await client.create()
        await client.bind_user(other.id, "aio-user")
        listed = await client.list_user_sessions("aio-user", current_id=here.id)
        assert [s.user_agent for s in listed if s.current] == ["Here"]
        handle = next(s.handle for s in listed if not s.current)
        assert await client.revoke_session(handle) is True
        again = await client.create(user_id="aio-user")
        assert await client.revoke_user_sessions("aio-user", except_id=here.id) == 1
        with pytest.raises(sessiond.SessionNotFound):
            await client.get(again.id)


async def test_concurrent_calls_share_one_channel(server: Server) -> None:
    client = aio.Client(server.grpc_addr)
    info = await client.create({})
    await asyncio.gather(*(client.set(info.id, {f"k{n}": n}) for n in range(50)))
    assert (await client.get(info.id)).data == {f"k{n}": n for n in range(50)}
    assert len(client._channels) == 1
    await client.close()


def test_one_client_serves_successive_event_loops(server: Server) -> None:
    # A grpc.aio channel belongs to its loop: each loop gets its own.
    client = aio.Client(server.grpc_addr)
    info = asyncio.run(client.create({"n": 0}))
    for n in range(1, 3):
        asyncio.run(client.set(info.id, {"n": n}))
    assert asyncio.run(client.get(info.id)).data == {"n": 2}


async def test_a_bad_value_is_refused_before_anything_is_sent(server: Server) -> None:
    async with aio.Client(server.grpc_addr) as client:
        info = await client.create({})
        with pytest.raises(TypeError, match="'when'"):
            await client.set(info.id, {"when": object()})
        assert (await client.get(info.id)).version == info.version


async def test_aio_counts_and_clears(tokens: Tokens) -> None:
    async with aio.Client(tokens.server.grpc_addr, token=tokens.other) as client:
        before = await client.count_sessions()
        await client.create({"n": 1})
        assert await client.count_sessions() == before + 1
        assert await client.clear_sessions() == before + 1
        assert await client.count_sessions() == 0
