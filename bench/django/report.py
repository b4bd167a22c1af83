"""The table of bench/django.sh (issue 14), from the logs of one run.

  python report.py OUT_DIR ROUNDS "ENGINES" "MICRO_MODES"

Reads OUT_DIR/wrk.<engine>.<round>.log (wrk --latency) and
OUT_DIR/micro.<mode>.<round>.log (clientbench.py's RESULT line) and prints
markdown: absolute figures are medians over the rounds, ratios are the
median (min-max) of the ratios taken within each round, so drift between
rounds cancels out of them.
"""

from __future__ import annotations

import re
import statistics
import sys
from pathlib import Path

UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}
NAMES = {
    "sessiond": "(a) `sessiond.django`, sessiond",
    "cache": "(b) `backends.cache`, RedisCache, redis-server",
    "db": "(c) `backends.db`, SQLite",
    "plain": "no session: `/plain`, the same site",
}


def ms(text: str) -> float:
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text)
    if not m:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(m.group(1)) * UNITS_MS[m.group(2)]


def wrk(path: Path) -> dict[str, float]:
    """req/s, p50 and p99 (ms), requests, and errors of one wrk log."""
    text = path.read_text()
    out = {
        "rps": float(re.search(r"^Requests/sec:\s+([0-9.]+)", text, re.M).group(1)),
        "p50": ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1)),
        "p99": ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1)),
        "requests": float(re.search(r"^\s+(\d+) requests in", text, re.M).group(1)),
        "errors": 0.0,
    }
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", text):
        out["errors"] += int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text):
        out["errors"] += sum(int(g) for g in m.groups())
    return out


def cpu(path: Path, requests: float) -> dict[str, float]:
    """CPU µs per request of the workers and of the store, from the ticks
    bench/django.sh read around one measured run."""
    w0, s0, w1, s1, tck = (float(x) for x in path.read_text().split())
    return {
        "workers_us": (w1 - w0) / tck * 1e6 / requests,
        "store_us": (s1 - s0) / tck * 1e6 / requests,
    }


def micro(path: Path) -> dict[str, float]:
    line = next(ln for ln in path.read_text().splitlines() if ln.startswith("RESULT "))
    fields = dict(f.split("=", 1) for f in line.split()[1:])
    return {k: float(v) for k, v in fields.items() if k != "label"}


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def main() -> None:
    out, rounds = Path(sys.argv[1]), int(sys.argv[2])
    engines = sys.argv[3].split()
    modes = sys.argv[4].split() if len(sys.argv) > 4 else []
    r = range(1, rounds + 1)

    runs = {e: [wrk(out / f"wrk.{e}.{i}.log") for i in r] for e in engines}
    for e in engines:
        for i, run in zip(r, runs[e]):
            path = out / f"cpu.{e}.{i}.txt"
            if path.exists():
                run.update(cpu(path, run["requests"]))
    keys = ("rps", "p50", "p99", "workers_us", "store_us")
    med = {
        e: {k: statistics.median(x[k] for x in runs[e]) for k in keys if k in runs[e][0]}
        for e in engines
    }
    print(
        "| engine | req/s | p50 | p99 | CPU per request: workers + store |"
        " sessiond ÷ this, req/s: median (min–max) |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for e in engines:
        m = med[e]
        if e != "sessiond" and "sessiond" in engines:
            ratio = spread([runs["sessiond"][i]["rps"] / runs[e][i]["rps"] for i in range(rounds)])
        else:
            ratio = ""
        cpu_text = ""
        if "workers_us" in m:
            cpu_text = f"{m['workers_us']:.0f} + {m['store_us']:.0f} µs"
        print(
            f"| {NAMES.get(e, e)} | {m['rps']:.0f} | {m['p50']:.2f} ms | {m['p99']:.2f} ms"
            f" | {cpu_text} | {ratio} |"
        )
    per_round = "; ".join(
        f"round {i + 1}: " + ", ".join(f"{e} {runs[e][i]['rps']:.0f}" for e in engines) for i in range(rounds)
    )
    print(f"\nreq/s per round: {per_round}")
    errors = {e: sum(x["errors"] for x in runs[e]) for e in engines}
    print(f"errors (non-2xx and socket) over all rounds: {errors}")

    if modes:
        res = {m: [micro(out / f"micro.{m}.{i}.log") for i in r] for m in modes}
        print(
            "\n| client call | calls/s | p50 | p99 | CPU per call: client + server |"
            " sessiond ÷ redis-py: median (min–max) |"
        )
        print("| --- | --- | --- | --- | --- | --- |")
        keys = ("ops_per_s", "p50_us", "p99_us", "client_cpu_us", "server_cpu_us")
        for m in modes:
            mm = {k: statistics.median(x.get(k, float("nan")) for x in res[m]) for k in keys}
            ratio = ""
            other = m.replace("redis-", "sessiond-")
            if m.startswith("redis-") and other in res:
                ratio = spread([res[other][i]["ops_per_s"] / res[m][i]["ops_per_s"] for i in range(rounds)])
            print(
                f"| {m} | {mm['ops_per_s']:.0f} | {mm['p50_us']:.0f} µs | {mm['p99_us']:.0f} µs"
                f" | {mm['client_cpu_us']:.0f} + {mm['server_cpu_us']:.0f} µs | {ratio} |"
            )


if __name__ == "__main__":
    main()
