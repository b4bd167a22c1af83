"""A real ``sessiond`` child process for the reliability tools: every
listener on an ephemeral loopback port, JSON logs, the addresses read from
its "sessiond serving" line, and its log kept for counting events."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Sequence


class Sessiond:
    """One run of the binary. ``stop()`` or ``kill()`` ends it."""

    def __init__(self, binary: str, args: Sequence[str], *, start_timeout: float = 120.0):
        self.events: list[dict[str, object]] = []
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [
                binary,
                "--grpc-addr",
                "127.0.0.1:0",
                "--http-addr",
                "127.0.0.1:0",
                "--admin-addr",
                "127.0.0.1:0",
                "--log-format",
                "json",
                *args,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={"RUST_LOG": "info", "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        )
        self._serving = threading.Event()
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        if not self._serving.wait(start_timeout) or self.proc.poll() is not None:
            self.proc.kill()
            self.proc.wait()
            tail = "\n".join(json.dumps(e) for e in self.events[-10:])
            raise RuntimeError(f"sessiond did not start serving; last log lines:\n{tail}")
        self.startup_seconds = time.monotonic() - self.started

    def _read_log(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            try:
                event = json.loads(raw)
            except ValueError:
                event = {"message": raw.decode(errors="replace").rstrip()}
            fields = event.get("fields", event)
            if isinstance(fields, dict) and "message" in fields:
                event = {**event, **fields}
            self.events.append(event)
            if event.get("message") == "sessiond serving":
                self.grpc_addr = str(event["grpc_addr"])
                self.http_addr = str(event["http_addr"])
                self.admin_addr = str(event["admin_addr"])
                self._serving.set()
        self._serving.set()

    def count(self, message: str) -> int:
        """How many log events carried ``message``."""
        return sum(1 for e in self.events if e.get("message") == message)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def admin(self, path: str, timeout: float = 5.0) -> tuple[int, str]:
        """``GET path`` on the admin listener: (status, body)."""
        try:
            with urllib.request.urlopen(f"http://{self.admin_addr}{path}", timeout=timeout) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def rss_bytes(self) -> int:
        """Resident set size, from /proc."""
        with open(f"/proc/{self.proc.pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def kill(self) -> None:
        """SIGKILL, and reap."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self._reader.join(5)

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM; the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        self._reader.join(5)
        return code
