"""Crash test: writers record every acknowledged Create, Set and Flush while
sessiond is SIGKILLed at random moments (some of them in the middle of a
snapshot), then sessiond is restarted on the same data dir and every session
ever acknowledged is checked against what the writers were told.

With ``--fsync always`` nothing acknowledged may be lost and no flushed
session may come back; with ``everysec`` only what was acknowledged in the
last second before the kill may be. Run by ``scripts/crash-test.sh``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

import sessiond
from server import Sessiond

# Writes a session takes before it is flushed or left alone; keeps every
# session well under --max-keys (each Set adds one key).
MAX_SETS = 60
BALLAST_VALUE = 60_000


@dataclass
class Model:
    """What the writers were told about one session."""

    id: str
    writer: int
    created_at: float
    # Highest n whose Set {"n": n, "k<n>": n} was acknowledged, and when.
    acked_n: int = 0
    acked_times: dict[int, float] = field(default_factory=dict)
    # Highest n sent (acknowledged or in flight at the kill).
    tried_n: int = 0
    flush_tried: bool = False
    flushed_at: float | None = None


@dataclass
class Tally:
    creates: int = 0
    sets: int = 0
    flushes: int = 0
    kills: int = 0
    mid_snapshot: int = 0
    lost: int = 0
    lost_max_age: float = 0.0
    lost_too_old: int = 0
    resurrected: int = 0
    resurrected_too_old: int = 0
    corrupt: int = 0
    torn_tails: int = 0
    max_restart: float = 0.0
    failures: list[str] = field(default_factory=list)


class Writers:
    """Threads writing until the server dies under them."""

    def __init__(self, target: str, count: int, models: dict[str, Model], seed: int):
        self.target = target
        self.models = models
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.acked = {"creates": 0, "sets": 0, "flushes": 0}
        self.threads = [
            threading.Thread(target=self._run, args=(w, random.Random(seed * 100 + w)), daemon=True)
            for w in range(count)
        ]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def join(self) -> None:
        for t in self.threads:
            t.join(30)
            if t.is_alive():
                raise RuntimeError("a writer did not stop after the kill")

    def _count(self, what: str) -> None:
        with self.lock:
            self.acked[what] += 1

    def _run(self, writer: int, rng: random.Random) -> None:
        client = sessiond.Client(self.target, timeout=10)
        try:
            while not self.stop.is_set():
                info = client.create({"writer": writer})
                model = Model(info.id, writer, time.monotonic())
                with self.lock:
                    self.models[model.id] = model
                self._count("creates")
                for n in range(1, rng.randint(1, MAX_SETS) + 1):
                    model.tried_n = n
                    client.set(model.id, {"n": n, f"k{n}": n})
                    model.acked_times[n] = time.monotonic()
                    model.acked_n = n
                    self._count("sets")
                if rng.random() < 0.7:
                    model.flush_tried = True
                    client.flush(model.id)
                    model.flushed_at = time.monotonic()
                    self._count("flushes")
        except sessiond.SessiondError:
            # The kill: whatever was in flight is neither acknowledged nor refused.
            pass
        finally:
            client.close()


def verify(
    client: sessiond.Client,
    models: dict[str, Model],
    ballast: dict[str, int],
    killed_at: float,
    window: float,
    tally: Tally,
) -> None:
    """Checks every known session against what was acknowledged; then makes
    the model what the server holds, so the next round starts from it."""

    def lost(what: str, acked_at: float) -> None:
        age = killed_at - acked_at
        tally.lost += 1
        tally.lost_max_age = max(tally.lost_max_age, age)
        if age > window:
            tally.lost_too_old += 1
            tally.failures.append(f"{what}: acknowledged {age:.3f}s before the kill, lost")

    for sid, tag in ballast.items():
        try:
            got = client.get(sid, ["tag", "blob"], no_touch=True)
        except sessiond.SessionNotFound:
            tally.lost += 1
            tally.lost_too_old += 1
            tally.failures.append(f"ballast {sid[:6]}: acknowledged before the first kill, lost")
            continue
        if got.data.get("tag") != tag or len(got.data.get("blob", "")) != BALLAST_VALUE:
            tally.corrupt += 1
            tally.failures.append(f"ballast {sid[:6]} corrupt")

    for sid, m in list(models.items()):
        try:
            got = client.get(sid, no_touch=True)
        except sessiond.SessionNotFound:
            got = None
        if m.flushed_at is not None:
            if got is not None:
                age = killed_at - m.flushed_at
                tally.resurrected += 1
                if age > window:
                    tally.resurrected_too_old += 1
                    tally.failures.append(f"{sid[:6]}: flushed {age:.3f}s before the kill, back")
                m.flushed_at = None
                m.flush_tried = False
            else:
                del models[sid]
                continue
        if got is None:
            if m.flush_tried:
                del models[sid]  # the flush in flight landed
                continue
            lost(f"{sid[:6]} created", m.created_at)
            for n in range(1, m.acked_n + 1):
                lost(f"{sid[:6]} set {n}", m.acked_times[n])
            del models[sid]
            continue
        data = got.data
        n = data.get("n", 0)
        expected = {"writer": m.writer, "n": n} if n else {"writer": m.writer}
        expected.update({f"k{i}": i for i in range(1, n + 1)})
        if data != expected or not (0 <= n <= m.tried_n):
            tally.corrupt += 1
            tally.failures.append(f"{sid[:6]}: holds {sorted(data)[:8]}... n={n}, tried {m.tried_n}")
        for i in range(n + 1, m.acked_n + 1):
            lost(f"{sid[:6]} set {i}", m.acked_times[i])
        m.acked_n = m.tried_n = n
        m.flush_tried = False


def make_ballast(client: sessiond.Client, count: int) -> dict[str, int]:
    """Big sessions that make every snapshot take a while, so kills land in one."""
    blob = "b" * BALLAST_VALUE
    return {client.create({"tag": i, "blob": blob}).id: i for i in range(count)}


def run_mode(args: argparse.Namespace, fsync: str) -> Tally:
    tally = Tally()
    window = 0.0 if fsync == "always" else 1.0
    data_dir = tempfile.mkdtemp(prefix=f"sessiond-crash-{fsync}-")
    flags = [
        "--data-dir",
        data_dir,
        "--fsync",
        fsync,
        # A snapshot on every tick of the snapshot loop (once a second).
        "--snapshot-interval",
        "1s",
        "--snapshot-log-bytes",
        "1",
        "--drain-delay",
        "0s",
    ]
    rng = random.Random(args.seed)
    models: dict[str, Model] = {}
    server = Sessiond(args.bin, flags)
    with sessiond.Client(server.grpc_addr, timeout=30) as c:
        ballast = make_ballast(c, args.ballast)
    snapshot_tmp = os.path.join(data_dir, "snapshot.tmp")
    try:
        for round_no in range(1, args.rounds + 1):
            writers = Writers(server.grpc_addr, args.writers, models, args.seed * 1000 + round_no)
            writers.start()
            # Every other round waits for a snapshot to be under way.
            in_snapshot = round_no % 2 == 0
            time.sleep(rng.uniform(0.3, 2.5))
            if in_snapshot:
                deadline = time.monotonic() + 10
                while not os.path.exists(snapshot_tmp) and time.monotonic() < deadline:
                    time.sleep(0.001)
                time.sleep(rng.uniform(0, 0.05))
            killed_at = time.monotonic()
            server.kill()
            writers.stop.set()
            writers.join()
            tally.kills += 1
            during = os.path.exists(snapshot_tmp)
            tally.mid_snapshot += during
            for what, n in writers.acked.items():
                setattr(tally, what, getattr(tally, what) + n)
            before = len(tally.failures)
            restarted = time.monotonic()
            server = Sessiond(args.bin, flags)
            tally.max_restart = max(tally.max_restart, time.monotonic() - restarted)
            tally.torn_tails += server.count(
                "cutting the torn tail of the journal (a crash mid-write)"
            )
            with sessiond.Client(server.grpc_addr, timeout=30) as c:
                verify(c, models, ballast, killed_at, window, tally)
            print(
                f"  {fsync} round {round_no}: acked {sum(writers.acked.values())} writes, "
                f"killed{' mid-snapshot' if during else ''}, "
                f"restart + check {time.monotonic() - restarted:.2f}s, {len(models)} sessions tracked, "
                f"{'ok' if len(tally.failures) == before else 'FAILED'}",
                flush=True,
            )
            if tally.failures[before:]:
                for line in tally.failures[before:][:20]:
                    print(f"    {line}", flush=True)
    finally:
        server.kill()
        shutil.rmtree(data_dir, ignore_errors=True)
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bin", required=True, help="the sessiond binary")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--fsync", default="always,everysec")
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--ballast", type=int, default=800, help="60 kB sessions held throughout")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    print(f"crash test: seed {args.seed}, {args.rounds} rounds per fsync mode", flush=True)
    ok = True
    figures = {}
    for fsync in args.fsync.split(","):
        t = run_mode(args, fsync)
        figures[fsync] = {k: v for k, v in t.__dict__.items() if k != "failures"}
        print(
            f"fsync {fsync}: {t.kills} kills ({t.mid_snapshot} mid-snapshot), acknowledged "
            f"{t.creates} creates / {t.sets} sets / {t.flushes} flushes; lost {t.lost} "
            f"(the oldest {t.lost_max_age * 1000:.0f} ms before its kill, {t.lost_too_old} older "
            f"than the window), resurrected {t.resurrected} ({t.resurrected_too_old} older than the "
            f"window), corrupt {t.corrupt}, torn tails cut {t.torn_tails}, slowest restart "
            f"{t.max_restart:.2f}s",
            flush=True,
        )
        if t.failures or (fsync == "always" and (t.lost or t.resurrected)):
            ok = False
        if t.mid_snapshot == 0 and args.rounds >= 2:
            print(f"fsync {fsync}: no kill landed mid-snapshot", flush=True)
            ok = False
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)
    print("crash test: " + ("1 passed, 0 failed" if ok else "0 passed, 1 failed"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
