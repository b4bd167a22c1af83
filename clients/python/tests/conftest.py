"""Fixtures: real sessiond servers (plain, with tokens, with mTLS) and
Django configured for the engine's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import django
import pytest
import trustme
from django.conf import settings
from server import Server, sessiond, tokens_file

from sessiond import Client

settings.configure(
    SECRET_KEY="sessiond-client-tests",
    INSTALLED_APPS=[
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "django.contrib.sessions",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    SESSION_ENGINE="sessiond.django",
    USE_TZ=True,
)
django.setup()

#: The limits of the shared server, small enough to hit in a test.
MAX_VALUE_BYTES = 4096
MAX_SESSION_BYTES = 16384


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """A sessiond without access control, on loopback."""
    with sessiond(
        "--max-value-bytes", str(MAX_VALUE_BYTES), "--max-session-bytes", str(MAX_SESSION_BYTES)
    ) as running:
        yield running


@pytest.fixture
def client(server: Server) -> Iterator[Client]:
    with Client(server.grpc_addr) as made:
        yield made


class Tokens:
    """A sessiond with a tokens file: ``app`` read-write and read-only, ``other``."""

    def __init__(self, server: Server, app: str, app_ro: str, other: str) -> None:
        self.server, self.app, self.app_ro, self.other = server, app, app_ro, other


@pytest.fixture(scope="session")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tokens]:
    directory = tmp_path_factory.mktemp("tokens")
    path, (app, app_ro, other) = tokens_file(
        directory, [("app", False), ("app", True), ("other", False)]
    )
    with sessiond("--tokens-file", str(path)) as running:
        yield Tokens(running, app, app_ro, other)


class Tls:
    """A sessiond serving TLS and asking clients for certificates (mTLS)."""

    def __init__(self, server: Server, ca: Path, cert: Path, key: Path) -> None:
        self.server, self.ca, self.cert, self.key = server, ca, cert, key


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tls]:
    directory = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    server_cert = ca.issue_cert("localhost", "127.0.0.1")
    client_cert = ca.issue_cert("app.clients.example", common_name="app")
    paths = {name: directory / name for name in ("ca", "cert", "key", "ccert", "ckey")}
    ca.cert_pem.write_to_path(str(paths["ca"]))
    server_cert.cert_chain_pems[0].write_to_path(str(paths["cert"]))
    server_cert.private_key_pem.write_to_path(str(paths["key"]))
    client_cert.cert_chain_pems[0].write_to_path(str(paths["ccert"]))
    client_cert.private_key_pem.write_to_path(str(paths["ckey"]))
    with sessiond(
        "--tls-cert",
        str(paths["cert"]),
        "--tls-key",
        str(paths["key"]),
        "--tls-client-ca",
        str(paths["ca"]),
    ) as running:
        yield Tls(running, paths["ca"], paths["ccert"], paths["ckey"])
