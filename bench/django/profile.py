"""Summary of a py-spy profile (--format raw) of a gunicorn's workers.

  python profile.py OUT_DIR/profile.<engine>.txt

Prints markdown: the share of samples under the frames that matter for the
session (the engine's load and save, the store's client, Django's request
handling), then the functions that use the most time themselves.
"""

from __future__ import annotations

import collections
import re
import sys

# (label, regex on a frame "Class.function (package/file.py:line)", the path
# as py-spy prints it, relative to site-packages): inclusive shares.
REQUEST = r"^WSGIHandler\.__call__ \(django/core/handlers/wsgi\.py"
INCLUSIVE = [
    ("the Django app (WSGIHandler.__call__)", REQUEST),
    ("session load (SessionBase._get_session)", r"^SessionBase\._get_session \(django/contrib/sessions/"),
    ("session save (SessionMiddleware.process_response)",
     r"^SessionMiddleware\.process_response \(django/contrib/sessions/middleware\.py"),
    ("the sessiond client (sessiond/*, not django.py)", r"\(sessiond/(?!django\.py)"),
    ("grpc (grpc/*)", r"\(grpc/"),
    ("protobuf (google/protobuf/*)", r"\((google/)?protobuf/"),
    ("redis-py (redis/*)", r"\(redis/"),
    ("Django's cache layer (django/core/cache/*)", r"\(django/core/cache/"),
    ("Django's db layer (django/db/*)", r"\(django/db/"),
    ("the view (benchsite/views.py)", r"\(benchsite/views\.py"),
]


def strip_line(frame: str) -> str:
    """'f (path/file.py:12)' -> 'f (path/file.py)': one row per function."""
    return re.sub(r":\d+\)$", ")", frame)


def main() -> None:
    stacks: list[tuple[list[str], int]] = []
    for line in open(sys.argv[1]):
        line = line.rstrip("\n")
        if not line:
            continue
        stack, _, count = line.rpartition(" ")
        stacks.append((stack.split(";"), int(count)))
    total = sum(c for _, c in stacks) or 1

    print(f"{total} samples (py-spy leaves out a worker waiting on a socket or for a request)\n")
    print("| under | share of samples |")
    print("| --- | --- |")
    for label, pattern in INCLUSIVE:
        rx = re.compile(pattern)
        n = sum(c for frames, c in stacks if any(rx.search(f) for f in frames))
        print(f"| {label} | {100 * n / total:.1f}% |")
    rx = re.compile(REQUEST)
    outside = sum(c for frames, c in stacks if not any(rx.search(f) for f in frames))
    print(f"| gunicorn around the app (accept, parse, write, close) | {100 * outside / total:.1f}% |")

    own: collections.Counter[str] = collections.Counter()
    for frames, c in stacks:
        own[strip_line(frames[-1])] += c
    print("\n| function (self time) | share |")
    print("| --- | --- |")
    for name, c in own.most_common(20):
        print(f"| `{name}` | {100 * c / total:.1f}% |")


if __name__ == "__main__":
    main()
