"""Unary Get against Get on a Pipeline stream, in grpcio (issue 19 item 4).

Whether the Python clients should carry their calls on sessiond's Pipeline
stream: the transport's cost per call alone, without the client library's
decoding, for each way a Python process can make the call:

  unary-sync    a unary Get, one thread (what sessiond.Client does)
  stream-sync   a Get on one Pipeline stream: grpcio's sync stream-stream
                call fed from a queue (its own thread consumes the request
                iterator), replies read by a reader thread that wakes the
                caller; one calling thread
  unary-aio     a unary Get from TASKS concurrent tasks (sessiond.aio.Client)
  stream-aio    a Get on one Pipeline stream from TASKS concurrent tasks: one
                reader task resolves each call's future by tag

Prints one RESULT line as bench/django/clientbench.py does (calls/s, p50,
p99, client and server CPU per call).

  python pipelinebench.py MODE --target 127.0.0.1:50051 --server-pid PID \
      --duration 5 --warmup 1 --tasks 16
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import queue
import threading
from collections.abc import Iterator
from typing import Any

from clientbench import DATA, Cpu, run_async, run_sync
from sessiond import Client
from sessiond.v1 import sessiond_pb2 as pb

import grpc

PIPELINE = "/sessiond.v1.SessionService/Pipeline"
GET = "/sessiond.v1.SessionService/Get"


def methods(channel: Any) -> tuple[Any, Any]:
    get = channel.unary_unary(
        GET,
        request_serializer=pb.GetRequest.SerializeToString,
        response_deserializer=pb.GetResponse.FromString,
    )
    pipeline = channel.stream_stream(
        PIPELINE,
        request_serializer=pb.PipelineRequest.SerializeToString,
        response_deserializer=pb.PipelineResponse.FromString,
    )
    return get, pipeline


class SyncStream:
    """The least a sync multiplexer does: a queue feeding the request
    iterator, a reader thread, an Event per call."""

    def __init__(self, pipeline: Any) -> None:
        self.requests: queue.SimpleQueue[pb.PipelineRequest | None] = queue.SimpleQueue()
        self.waiting: dict[int, list[Any]] = {}
        self.tags = itertools.count(1)
        self.replies = pipeline(self._feed())
        threading.Thread(target=self._read, daemon=True).start()

    def _feed(self) -> Iterator[pb.PipelineRequest]:
        while (request := self.requests.get()) is not None:
            yield request

    def _read(self) -> None:
        try:
            for reply in self.replies:
                slot = self.waiting.pop(reply.tag)
                slot[1] = reply
                slot[0].set()
        except grpc.RpcError:
            pass  # the channel closed at the end of the run

    def get(self, session_id: str) -> pb.GetResponse:
        tag = next(self.tags)
        slot: list[Any] = [threading.Event(), None]
        self.waiting[tag] = slot
        self.requests.put(pb.PipelineRequest(tag=tag, get=pb.GetRequest(id=session_id)))
        slot[0].wait()
        return slot[1].get

    def close(self) -> None:
        self.requests.put(None)


class AioStream:
    """The aio multiplexer: writes on the call, one reader task."""

    def __init__(self, pipeline: Any) -> None:
        # grpc.aio allows one write at a time: the requests go through a
        # queue that the call's request iterator drains.
        self.requests: asyncio.Queue[pb.PipelineRequest | None] = asyncio.Queue()
        self.call = pipeline(self._feed())
        self.waiting: dict[int, asyncio.Future[pb.PipelineResponse]] = {}
        self.tags = itertools.count(1)
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _feed(self) -> Any:
        while (request := await self.requests.get()) is not None:
            yield request

    async def _read(self) -> None:
        async for reply in self.call:
            self.waiting.pop(reply.tag).set_result(reply)

    async def get(self, session_id: str) -> pb.GetResponse:
        tag = next(self.tags)
        future = asyncio.get_running_loop().create_future()
        self.waiting[tag] = future
        self.requests.put_nowait(pb.PipelineRequest(tag=tag, get=pb.GetRequest(id=session_id)))
        return (await future).get

    async def close(self) -> None:
        self.requests.put_nowait(None)
        await self.reader


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["unary-sync", "stream-sync", "unary-aio", "stream-aio"])
    parser.add_argument("--target", default="127.0.0.1:50051", help="sessiond gRPC host:port")
    parser.add_argument("--duration", type=float, default=5.0, help="recorded seconds")
    parser.add_argument("--warmup", type=float, default=1.0, help="unrecorded seconds first")
    parser.add_argument("--tasks", type=int, default=16, help="concurrent tasks (aio modes)")
    parser.add_argument("--server-pid", type=int, help="the server's pid, for its CPU per call")
    args = parser.parse_args()
    cpu = Cpu(args.server_pid)
    with Client(args.target) as client:
        session_id = client.create(DATA).id
    request = pb.GetRequest(id=session_id)

    if args.mode.endswith("-sync"):
        with grpc.insecure_channel(args.target) as channel:
            get, pipeline = methods(channel)
            if args.mode == "unary-sync":
                call = lambda: get(request, timeout=5)  # noqa: E731
                run_sync(args.mode, call, args.duration, args.warmup, cpu)
            else:
                stream = SyncStream(pipeline)
                assert stream.get(session_id).session.id == session_id
                run_sync(args.mode, lambda: stream.get(session_id), args.duration, args.warmup, cpu)
                stream.close()
        return

    async def go() -> None:
        async with grpc.aio.insecure_channel(args.target) as channel:
            get, pipeline = methods(channel)
            if args.mode == "unary-aio":
                await run_async(
                    args.mode,
                    lambda: get(request, timeout=5),
                    args.tasks,
                    args.duration,
                    args.warmup,
                    cpu,
                )
            else:
                stream = AioStream(pipeline)
                assert (await stream.get(session_id)).session.id == session_id
                await run_async(
                    args.mode,
                    lambda: stream.get(session_id),
                    args.tasks,
                    args.duration,
                    args.warmup,
                    cpu,
                )
                await stream.close()

    asyncio.run(go())


if __name__ == "__main__":
    main()
