"""A real sessiond for the tests: the binary as a child process on free
loopback ports, its addresses read from its "sessiond serving" log line.

The binary is ``$SESSIOND_BIN``, or the repository's debug build
(``cargo build --bin sessiond``).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def binary() -> str:
    path = os.environ.get("SESSIOND_BIN") or str(REPO / "target" / "debug" / "sessiond")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"no sessiond binary at {path}: run `cargo build --bin sessiond`")
    return path


@dataclass
class Server:
    """A running sessiond and where it listens."""

    process: subprocess.Popen[str]
    grpc_addr: str
    http_addr: str
    admin_addr: str


@contextmanager
def sessiond(*args: str) -> Iterator[Server]:
    """Runs sessiond with ``args`` on top of ephemeral listeners until the
    block ends, then stops it with SIGTERM."""
    process = subprocess.Popen(
        [
            binary(),
            "--grpc-addr",
            "127.0.0.1:0",
            "--http-addr",
            "127.0.0.1:0",
            "--admin-addr",
            "127.0.0.1:0",
            "--drain-delay",
            "0s",
            "--log-format",
            "json",
            *args,
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    try:
        for line in process.stderr:
            event = json.loads(line)
            if event.get("message") == "sessiond serving":
                break
        else:
            raise RuntimeError(f"sessiond exited with {process.wait()} before serving")
        # Keep reading its log, so that it never blocks on a full pipe.
        drain = threading.Thread(target=process.stderr.read, daemon=True)
        drain.start()
        yield Server(process, event["grpc_addr"], event["http_addr"], event["admin_addr"])
    finally:
        process.terminate()
        process.wait(timeout=30)


def tokens_file(directory: Path, entries: Sequence[tuple[str, bool]]) -> tuple[Path, list[str]]:
    """A tokens file in ``directory`` with a fresh token per ``(namespace,
    read_only)``, hashed by ``sessiond hash-token``; returns it and the tokens."""
    tokens, lines = [], []
    for namespace, read_only in entries:
        token = secrets.token_hex(32)
        command = [binary(), "hash-token", namespace] + (["--read-only"] if read_only else [])
        line = subprocess.run(
            command, input=token + "\n", capture_output=True, text=True, check=True
        ).stdout
        tokens.append(token)
        lines.append(line.strip())
    path = directory / "tokens"
    path.write_text("\n".join(lines) + "\n")
    return path, tokens
