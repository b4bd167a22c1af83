"""Soak: mixed load (Gets, Sets, Creates, Flushes), a mass expiry wave at
the start of every sample interval (sessions with a 2 s idle timeout) and
snapshots every 10 s, with RSS, live sessions and Get p99 sampled at the
end of every interval, once its wave has expired. RSS per live session
must stay flat (within 20 % or 8 MiB of the first sample after warm-up)
and, unless ``--max-p99-ratio 0``, so must the Get p99 (the later half's
median within 2x of the earlier half's). Run by ``scripts/soak.sh``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time

import sessiond
from server import Sessiond

BASE = 5000  # long-lived sessions
KEYS = 10  # keys a base session may hold


def live_sessions(server: Sessiond) -> int:
    _, text = server.admin("/metrics")
    m = re.search(r"^sessiond_sessions(?:\{[^}]*\})? (\S+)$", text, re.M)
    return int(float(m.group(1))) if m else -1


class Load:
    """Worker threads of mixed calls; Get latencies per interval."""

    def __init__(self, target: str, ids: list[str], workers: int):
        self.target = target
        self.ids = ids
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.ops = 0
        self.errors: list[str] = []
        self.threads = [threading.Thread(target=self._run, args=(w,)) for w in range(workers)]

    def take(self) -> tuple[list[float], int]:
        with self.lock:
            lat, self.latencies = self.latencies, []
            ops, self.ops = self.ops, 0
        return lat, ops

    def _run(self, seed: int) -> None:
        rng = random.Random(seed)
        with sessiond.Client(self.target, timeout=10) as client:
            while not self.stop.is_set():
                sid = rng.choice(self.ids)
                r = rng.random()
                try:
                    if r < 0.6:
                        t = time.perf_counter()
                        client.get(sid)
                        lat = time.perf_counter() - t
                        with self.lock:
                            self.latencies.append(lat)
                    elif r < 0.85:
                        client.set(sid, {f"k{rng.randrange(KEYS)}": "x" * rng.randrange(200)})
                    else:
                        client.flush(client.create({"temp": True}).id)
                except sessiond.SessiondError as e:
                    self.errors.append(repr(e))
                with self.lock:
                    self.ops += 1


# A wave's idle timeout, and how long after its last create it is gone:
# the timeout, the reaper's visit (within a second of a deadline) and a
# margin.
WAVE_IDLE_S = 2
WAVE_SETTLED = WAVE_IDLE_S + 1.5


def wave(target: str, count: int) -> None:
    """Creates `count` sessions that expire WAVE_IDLE_S after their create."""
    with sessiond.Client(target, timeout=10) as client:
        for i in range(count):
            client.create({"wave": i, "pad": "p" * 100}, idle_timeout=WAVE_IDLE_S)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--seconds", type=float, default=1800)
    parser.add_argument("--sample", type=float, default=60, help="seconds between samples")
    parser.add_argument("--wave", type=int, default=5000, help="sessions in each expiry wave")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-p99-ratio", type=float, default=2.0, help="0: report only")
    parser.add_argument("--json")
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="sessiond-soak-")
    server = Sessiond(
        args.bin,
        ["--data-dir", data_dir, "--snapshot-interval", "10s", "--min-idle-timeout", "1s"],
    )
    samples = []
    ok = True
    try:
        with sessiond.Client(server.grpc_addr, timeout=10) as c:
            ids = [c.create({"user": i}).id for i in range(BASE)]
        load = Load(server.grpc_addr, ids, args.workers)
        for t in load.threads:
            t.start()
        started = time.monotonic()
        n = 0
        print(f"{'t':>6} {'rss MiB':>8} {'live':>6} {'B/live':>7} {'Get p99':>8} {'ops/s':>6}")
        while time.monotonic() - started < args.seconds:
            n += 1
            wave(server.grpc_addr, args.wave)
            # The sample comes at the end of its interval, and at least
            # WAVE_SETTLED after the wave's last create, however long a
            # busy machine took to make the wave: by then every session of
            # it has passed its idle timeout and been reclaimed.
            end = max(started + n * args.sample, time.monotonic() + WAVE_SETTLED)
            time.sleep(max(0.0, end - time.monotonic()))
            lat, ops = load.take()
            lat.sort()
            s = {
                "t": round(time.monotonic() - started),
                "rss": server.rss_bytes(),
                "live": live_sessions(server),
                "p99_ms": lat[int(len(lat) * 0.99)] * 1000 if lat else float("nan"),
                "ops_per_s": ops / args.sample,
            }
            s["bytes_per_live"] = s["rss"] / max(1, s["live"])
            samples.append(s)
            print(
                f"{s['t']:6} {s['rss'] / 2**20:8.1f} {s['live']:6} {s['bytes_per_live']:7.0f} "
                f"{s['p99_ms']:6.2f}ms {s['ops_per_s']:6.0f}",
                flush=True,
            )
        load.stop.set()
        for t in load.threads:
            t.join(30)
        snapshots = server.count("snapshot written")
    finally:
        server.kill()
        shutil.rmtree(data_dir, ignore_errors=True)

    # The first sample is the warm-up (the first wave's pools); judge from the second.
    ref = samples[1] if len(samples) > 2 else samples[0]
    last = samples[-1]
    rss_ok = last["bytes_per_live"] <= max(
        ref["bytes_per_live"] * 1.2, ref["bytes_per_live"] + (8 << 20) / max(1, last["live"])
    )
    half = max(1, len(samples) // 2)
    early = statistics.median(s["p99_ms"] for s in samples[:half])
    late = statistics.median(s["p99_ms"] for s in samples[half:])
    ratio = late / early
    expired = all(abs(s["live"] - BASE) <= BASE * 0.05 for s in samples)
    print(
        f"soak: {len(samples)} samples, {snapshots} snapshots, {len(load.errors)} errors; RSS per "
        f"live session {ref['bytes_per_live']:.0f} B at {ref['t']} s, {last['bytes_per_live']:.0f} B "
        f"at {last['t']} s ({'flat' if rss_ok else 'GREW'}); Get p99 median {early:.2f} ms early, "
        f"{late:.2f} ms late ({ratio:.2f}x); every wave expired before its sample: {expired}"
    )
    if load.errors:
        print("\n".join(load.errors[:10]))
    ok = rss_ok and not load.errors and snapshots > 0 and expired
    if args.max_p99_ratio and ratio > args.max_p99_ratio:
        print(f"soak: Get p99 grew more than {args.max_p99_ratio}x")
        ok = False
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"samples": samples, "snapshots": snapshots, "p99_ratio": ratio}, f, indent=2)
    print("soak: " + ("1 passed, 0 failed" if ok else "0 passed, 1 failed"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
