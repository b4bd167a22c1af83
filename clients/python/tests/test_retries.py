"""Which calls are retried on UNAVAILABLE, against a gRPC server that
answers every call with UNAVAILABLE and counts the attempts.

This is the one place a stand-in server is used: sessiond answers
UNAVAILABLE only while shutting down or when its journal fails, which no
test can time precisely. The stand-in checks the client's retry policy,
not sessiond's behaviour.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest

import sessiond
from sessiond import Client, aio
from sessiond._config import IDEMPOTENT


class _Unavailable(grpc.GenericRpcHandler):
    def __init__(self) -> None:
        self.attempts: Counter[str] = Counter()

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler[bytes, bytes]:
        method = details.method.rsplit("/", 1)[-1]

        def refuse(request: bytes, context: grpc.ServicerContext) -> bytes:
            self.attempts[method] += 1
            context.abort(grpc.StatusCode.UNAVAILABLE, "draining")

        return grpc.unary_unary_rpc_method_handler(refuse)


@pytest.fixture
def unavailable() -> Iterator[tuple[str, _Unavailable]]:
    handler = _Unavailable()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), handlers=[handler])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}", handler
    server.stop(None)


ID = "0" * 32
CALLS: dict[str, Callable[[Any], Any]] = {
    "Create": lambda c: c.create({}),
    "Get": lambda c: c.get(ID),
    "Set": lambda c: c.set(ID, {"a": 1}),
    "Flush": lambda c: c.flush(ID),
    "Rotate": lambda c: c.rotate(ID),
    "Touch": lambda c: c.touch(ID),
    "CountSessions": lambda c: c.count_sessions(),
    "ClearSessions": lambda c: c.clear_sessions(),
}


def test_only_idempotent_calls_are_retried_on_unavailable(
    unavailable: tuple[str, _Unavailable],
) -> None:
    target, handler = unavailable
    with Client(target, timeout=10) as client:
        for call in CALLS.values():
            with pytest.raises(sessiond.Unavailable):
                call(client)
    assert {"Get", "Touch", "Flush", "CountSessions"} == IDEMPOTENT
    assert handler.attempts == {name: 4 if name in IDEMPOTENT else 1 for name in CALLS}


async def test_the_asyncio_client_retries_the_same_calls(
    unavailable: tuple[str, _Unavailable],
) -> None:
    target, handler = unavailable
    client = aio.Client(target, timeout=10)
    for call in CALLS.values():
        with pytest.raises(sessiond.Unavailable):
            await call(client)
    await client.close()
    assert handler.attempts == {name: 4 if name in IDEMPOTENT else 1 for name in CALLS}
