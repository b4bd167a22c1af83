"""Summary of a py-spy profile (--format raw) of one gunicorn worker.

  python profile.py OUT_DIR/profile.<engine>.txt

Prints markdown: the share of samples under the frames that matter for the
session (the engine's load and save, the store's client, Django's request
handling), then the functions that use the most time themselves.
"""

from __future__ import annotations

import collections
import re
import sys

# (label, regex on a frame "function (file:line)"): inclusive shares.
INCLUSIVE = [
    ("whole request (WSGIHandler.__call__)", r"^__call__ \(.*django/core/handlers/wsgi\.py"),
    ("session load (SessionBase._get_session)", r"^_get_session \(.*sessions/backends/base\.py"),
    ("session save (SessionMiddleware.process_response)", r"^process_response \(.*sessions/middleware\.py"),
    ("sessiond client (sessiond/*)", r"\(.*/site-packages/sessiond/(?!django)"),
    ("grpc (grpc/*)", r"\(.*/site-packages/grpc/"),
    ("protobuf (google/protobuf/*)", r"\(.*/site-packages/google/protobuf/"),
    ("redis-py (redis/*)", r"\(.*/site-packages/redis/"),
    ("Django's cache layer (core/cache/*)", r"\(.*django/core/cache/"),
    ("signing and serializing (core/signing.py)", r"\(.*django/core/signing\.py"),
    ("sqlite3 / Django db", r"\(.*django/db/"),
    ("gunicorn (accept, parse, write)", r"\(.*/site-packages/gunicorn/"),
]


def strip_line(frame: str) -> str:
    """'f (path/to/file.py:12)' -> 'f (file.py)': one row per function."""
    m = re.match(r"^(.*) \((.*?)(?::\d+)?\)$", frame)
    if not m:
        return frame
    path = m.group(2)
    short = re.sub(r"^.*/site-packages/", "", path)
    short = re.sub(r"^.*/lib/python3\.\d+/", "stdlib/", short)
    return f"{m.group(1)} ({short})"


def main() -> None:
    stacks: list[tuple[list[str], int]] = []
    for line in open(sys.argv[1]):
        line = line.rstrip("\n")
        if not line:
            continue
        stack, _, count = line.rpartition(" ")
        stacks.append((stack.split(";"), int(count)))
    total = sum(c for _, c in stacks) or 1

    print(f"{total} samples (CPU only: py-spy leaves out a worker waiting on a socket)\n")
    print("| under | share of samples |")
    print("| --- | --- |")
    for label, pattern in INCLUSIVE:
        rx = re.compile(pattern)
        n = sum(c for frames, c in stacks if any(rx.search(f) for f in frames))
        print(f"| {label} | {100 * n / total:.1f}% |")

    own: collections.Counter[str] = collections.Counter()
    for frames, c in stacks:
        own[strip_line(frames[-1])] += c
    print("\n| function (self time) | share |")
    print("| --- | --- |")
    for name, c in own.most_common(20):
        print(f"| `{name}` | {100 * c / total:.1f}% |")


if __name__ == "__main__":
    main()
