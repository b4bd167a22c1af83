"""A real sessiond for the deployment tests: the binary CI just built
(SESSIOND_BIN), on loopback ports the kernel picks, read back from its
start-up log."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def sessiond_bin() -> str:
    path = os.environ.get("SESSIOND_BIN")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError(
            "SESSIOND_BIN must name the sessiond binary (scripts/test-deploy.sh sets it)"
        )
    return path


class Sessiond:
    """One sessiond process. `args` are flags; `env` replaces the
    environment (the test's SESSIOND_* variables never leak in)."""

    def __init__(
        self, *args: str, env: dict[str, str] | None = None, loopback: bool = True
    ) -> None:
        base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        if loopback:
            base.update(
                SESSIOND_GRPC_ADDR="127.0.0.1:0",
                SESSIOND_HTTP_ADDR="127.0.0.1:0",
                SESSIOND_ADMIN_ADDR="127.0.0.1:0",
            )
        base.update(env or {})
        base["SESSIOND_LOG_FORMAT"] = "json"
        self.process = subprocess.Popen(
            [sessiond_bin(), *args],
            env=base,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.log: list[dict] = []
        self._serving = threading.Event()
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        if not self._serving.wait(30):
            self.process.kill()
            raise RuntimeError(f"sessiond did not start serving: {self.log}")
        line = next(entry for entry in self.log if entry.get("message") == "sessiond serving")
        self.grpc = line["grpc_addr"]
        self.http = _host_port(line["http_addr"])
        self.admin = _host_port(line["admin_addr"])

    def _read_log(self) -> None:
        assert self.process.stderr is not None
        for text in self.process.stderr:
            try:
                entry = json.loads(text)
            except json.JSONDecodeError:
                entry = {"message": text.rstrip()}
            self.log.append(entry)
            if entry.get("message") == "sessiond serving":
                self._serving.set()
        self._serving.set()

    def terminate(self) -> None:
        """SIGTERM: the drain starts; see `wait`."""
        self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _host_port(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    return host.strip("[]"), int(port)


@pytest.fixture
def start() -> Iterator:
    """`start(*flags, env=...)` runs a sessiond; each is killed at the end."""
    started: list[Sessiond] = []

    def run(*args: str, **kwargs) -> Sessiond:
        server = Sessiond(*args, **kwargs)
        started.append(server)
        return server

    yield run
    for server in started:
        server.close()
