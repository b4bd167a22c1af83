"""Python client micro-benchmark of bench/django.sh (issue 14).

Reads one session over and over for a fixed time and prints one line

  RESULT label=<mode> ops_per_s=<calls/s> p50_us=<µs> p99_us=<µs> calls=<n>
         client_cpu_us=<µs per call> server_cpu_us=<µs per call, with --server-pid>

Modes (one per process, so the shell can interleave them round by round):

  sessiond-sync   sessiond.Client.get, one thread
  redis-sync      redis-py GET of a value as large, one thread
  sessiond-aio    sessiond.aio.Client.get from TASKS concurrent tasks
  redis-aio       redis.asyncio GET from TASKS concurrent tasks

The session and the Redis value hold the same data: what /login of the
benchmark site stores (five keys), as JSON. The sessiond client decodes its
values from JSON (that is its job), redis-py returns bytes (hiredis parses
the reply when installed).

  python clientbench.py MODE --target 127.0.0.1:50051 --redis redis://127.0.0.1:6379/0 \
      --duration 5 --warmup 1 --tasks 16
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time

DATA = {
    "user_id": 42,
    "username": "ada",
    "roles": ["reader", "writer"],
    "csrf_seed": "c" * 32,
    "n": 0,
}
REDIS_KEY = "bench:clientbench"


def percentile(sorted_ns: list[int], q: float) -> float:
    """The q-quantile of sorted latencies, in µs."""
    if not sorted_ns:
        return float("nan")
    return sorted_ns[min(len(sorted_ns) - 1, int(q * len(sorted_ns)))] / 1000


class Cpu:
    """CPU time (user + system) of this process and of the server over the
    recorded window, per call: what each side spends on one call."""

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid

    def _server(self) -> float:
        if self.server_pid is None:
            return 0.0
        with open(f"/proc/{self.server_pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def start(self) -> None:
        self.client0, self.server0 = time.process_time(), self._server()

    def stop(self) -> None:
        self.client1, self.server1 = time.process_time(), self._server()

    def fields(self, calls: int) -> str:
        per = 1e6 / max(calls, 1)
        text = f"client_cpu_us={(self.client1 - self.client0) * per:.1f}"
        if self.server_pid is not None:
            text += f" server_cpu_us={(self.server1 - self.server0) * per:.1f}"
        return text


def report(label: str, latencies: list[int], elapsed: float, cpu: Cpu) -> None:
    latencies.sort()
    print(
        f"RESULT label={label} ops_per_s={len(latencies) / elapsed:.0f} "
        f"p50_us={percentile(latencies, 0.50):.1f} p99_us={percentile(latencies, 0.99):.1f} "
        f"calls={len(latencies)} {cpu.fields(len(latencies))}",
        flush=True,
    )


def run_sync(label: str, call, duration: float, warmup: float, cpu: Cpu) -> None:
    """Calls call() in a loop: warmup seconds unrecorded, then duration recorded."""
    clock = time.perf_counter_ns
    end = clock() + int(warmup * 1e9)
    while clock() < end:
        call()
    latencies: list[int] = []
    append = latencies.append
    cpu.start()
    start = clock()
    end = start + int(duration * 1e9)
    now = start
    while now < end:
        call()
        after = clock()
        append(after - now)
        now = after
    cpu.stop()
    report(label, latencies, (now - start) / 1e9, cpu)


async def run_async(
    label: str, call, tasks: int, duration: float, warmup: float, cpu: Cpu
) -> None:
    """TASKS tasks each awaiting call() in a loop; only the recorded window counts."""
    clock = time.perf_counter_ns
    latencies: list[int] = []
    recording = False
    stop = False

    async def worker() -> None:
        while not stop:
            t0 = clock()
            await call()
            if recording:
                latencies.append(clock() - t0)

    workers = [asyncio.create_task(worker()) for _ in range(tasks)]
    await asyncio.sleep(warmup)
    recording = True
    cpu.start()
    start = clock()
    await asyncio.sleep(duration)
    recording = False
    elapsed = (clock() - start) / 1e9
    cpu.stop()
    stop = True
    await asyncio.gather(*workers)
    report(label, latencies, elapsed, cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["sessiond-sync", "redis-sync", "sessiond-aio", "redis-aio"])
    parser.add_argument("--target", default="127.0.0.1:50051", help="sessiond gRPC host:port")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="Redis URL")
    parser.add_argument("--duration", type=float, default=5.0, help="recorded seconds")
    parser.add_argument("--warmup", type=float, default=1.0, help="unrecorded seconds first")
    parser.add_argument("--tasks", type=int, default=16, help="concurrent tasks (aio modes)")
    parser.add_argument("--server-pid", type=int, help="the server's pid, for its CPU per call")
    args = parser.parse_args()
    cpu = Cpu(args.server_pid)

    if args.mode == "sessiond-sync":
        from sessiond import Client

        with Client(args.target) as client:
            session_id = client.create(DATA).id
            assert client.get(session_id).data == DATA
            run_sync(args.mode, lambda: client.get(session_id), args.duration, args.warmup, cpu)
            client.flush(session_id)
    elif args.mode == "redis-sync":
        import redis

        r = redis.Redis.from_url(args.redis)
        r.set(REDIS_KEY, json.dumps(DATA))
        assert json.loads(r.get(REDIS_KEY)) == DATA
        run_sync(args.mode, lambda: r.get(REDIS_KEY), args.duration, args.warmup, cpu)
        r.close()
    elif args.mode == "sessiond-aio":
        from sessiond import aio

        async def go() -> None:
            client = aio.Client(args.target)
            try:
                session_id = (await client.create(DATA)).id
                assert (await client.get(session_id)).data == DATA
                await run_async(
                    args.mode,
                    lambda: client.get(session_id),
                    args.tasks,
                    args.duration,
                    args.warmup,
                    cpu,
                )
                await client.flush(session_id)
            finally:
                await client.close()

        asyncio.run(go())
    else:
        import redis.asyncio

        async def go() -> None:
            # A pool of up to TASKS connections, so that no GET waits for a
            # free one (sessiond's client multiplexes every task on one
            # HTTP/2 channel instead).
            r = redis.asyncio.Redis.from_url(args.redis, max_connections=args.tasks)
            try:
                await r.set(REDIS_KEY, json.dumps(DATA))
                assert json.loads(await r.get(REDIS_KEY)) == DATA
                await run_async(
                    args.mode, lambda: r.get(REDIS_KEY), args.tasks, args.duration, args.warmup, cpu
                )
            finally:
                await r.aclose()

        asyncio.run(go())


if __name__ == "__main__":
    main()
