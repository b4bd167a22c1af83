"""The Django engine against a real sessiond: settings, failures, the
lost-update comparison with Django's own engines, expiry and rotation.
Django's own session tests run separately (run_django_suite.py)."""

from __future__ import annotations

import re
import socket
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from conftest import MAX_SESSION_BYTES, Tokens
from django.contrib.auth import login, logout
from django.contrib.auth.models import User
from django.contrib.sessions.backends.base import SessionBase, UpdateError
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.http import HttpRequest
from django.test import RequestFactory, override_settings
from server import Server

import sessiond
from sessiond import Client
from sessiond.django import SessionStore


@pytest.fixture
def engine(server: Server) -> Iterator[Client]:
    """Django configured for the shared server; a client to look behind it."""
    with override_settings(SESSIOND_TARGET=server.grpc_addr), Client(server.grpc_addr) as client:
        yield client


def key_of(session: SessionBase) -> str:
    """The session's key, which the test expects it to have."""
    key = session.session_key
    assert key is not None
    return key


def live_sessions(server: Server) -> int:
    """sessiond's own count of the sessions it holds."""
    with urllib.request.urlopen(f"http://{server.admin_addr}/metrics") as response:
        text = response.read().decode()
    match = re.search(r"^sessiond_sessions (\d+)$", text, re.MULTILINE)
    assert match, "sessiond_sessions is exported"
    return int(match.group(1))


# Settings.


def test_without_sessiond_target_the_engine_is_improperly_configured() -> None:
    with pytest.raises(ImproperlyConfigured, match="SESSIOND_TARGET is not set"):
        SessionStore()


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"SESSIOND_TARGET": "localhost"}, "SESSIOND_TARGET"),
        ({"SESSIOND_TARGET": "127.0.0.1:1", "SESSIOND_TIMEOUT": "soon"}, "SESSIOND_TIMEOUT"),
        ({"SESSIOND_TARGET": "127.0.0.1:1", "SESSIOND_TIMEOUT": -1}, "SESSIOND_TIMEOUT"),
        ({"SESSIOND_TARGET": "127.0.0.1:1", "SESSIOND_TOKEN": "two words"}, "SESSIOND_TOKEN"),
        ({"SESSIOND_TARGET": "127.0.0.1:1", "SESSIOND_TLS_CA": "/absent.pem"}, "SESSIOND_TLS_CA"),
        ({"SESSIOND_TARGET": "127.0.0.1:1", "SESSIOND_TLS_CERT": "/c.pem"}, "SESSIOND_TLS_CERT"),
        (
            {"SESSIOND_TARGET": "127.0.0.1:1", "SESSIOND_TOKEN_FILE": "/absent"},
            "SESSIOND_TOKEN_FILE",
        ),
        (
            {"SESSIOND_TARGET": "127.0.0.1:1", "SESSIOND_TOKEN": "t", "SESSIOND_TOKEN_FILE": "/t"},
            "SESSIOND_TOKEN_FILE",
        ),
    ],
)
def test_a_bad_setting_is_improperly_configured_naming_it(
    overrides: dict[str, Any], setting: str
) -> None:
    with override_settings(**overrides), pytest.raises(ImproperlyConfigured, match=setting):
        SessionStore()


def test_the_token_may_come_from_a_file(tokens: Tokens, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(tokens.app + "\n")
    with override_settings(
        SESSIOND_TARGET=tokens.server.grpc_addr, SESSIOND_TOKEN_FILE=str(token_file)
    ):
        session = SessionStore()
        session["a"] = 1
        session.save()
        assert SessionStore(session.session_key)["a"] == 1


# Failures at run time.


def test_an_unreachable_sessiond_fails_closed_with_sessiond_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        target = f"127.0.0.1:{probe.getsockname()[1]}"
    with override_settings(SESSIOND_TARGET=target, SESSIOND_TIMEOUT=2):
        session = SessionStore("a" * 32)
        with pytest.raises(sessiond.SessiondUnavailable, match="reachable"):
            session.load()


def test_a_wrong_token_says_so_at_the_first_call(tokens: Tokens) -> None:
    with override_settings(SESSIOND_TARGET=tokens.server.grpc_addr, SESSIOND_TOKEN="wrong"):
        session = SessionStore()
        session["a"] = 1
        with pytest.raises(sessiond.Unauthenticated, match="token"):
            session.save()


def test_a_value_without_json_form_is_a_type_error_naming_the_key(engine: Client) -> None:
    session = SessionStore()
    session["fine"] = 1
    session.save()
    session["when"] = {1, 2}
    with pytest.raises(TypeError, match="'when'"):
        session.save()
    assert engine.get(key_of(session)).data == {"fine": 1}


def test_an_oversized_session_is_an_error_quoting_the_servers_limit(engine: Client) -> None:
    session = SessionStore()
    for n in range(8):
        session[f"part{n}"] = "x" * (MAX_SESSION_BYTES // 8)
    with pytest.raises(sessiond.ResourceExhausted, match=f"{MAX_SESSION_BYTES}.*max-session-bytes"):
        session.save()


# Load, save and delete.


def test_loading_an_unknown_or_malformed_key_creates_no_record(
    engine: Client, server: Server
) -> None:
    before = live_sessions(server)
    for key in ("0" * 32, "not-a-sessiond-id", "x" * 300):
        session = SessionStore(key)
        assert session.load() == {}
        assert session.session_key is None
    assert live_sessions(server) == before


def test_another_namespaces_key_is_a_new_empty_session(tokens: Tokens) -> None:
    with Client(tokens.server.grpc_addr, token=tokens.other) as other:
        foreign = other.create({"secret": 1}).id
    with override_settings(SESSIOND_TARGET=tokens.server.grpc_addr, SESSIOND_TOKEN=tokens.app):
        session = SessionStore(foreign)
        assert "secret" not in session
        assert session.session_key is None


def test_save_sends_only_what_changed(engine: Client) -> None:
    session = SessionStore()
    session.update({"a": 1, "b": 2, "c": 3})
    session.save()
    # Behind the engine's back, another request changes a and c.
    engine.set(key_of(session), {"a": 10}, remove=["c"])
    session["b"] = 20
    session.save()
    assert engine.get(key_of(session)).data == {"a": 10, "b": 20}


def test_an_emptied_session_is_kept_with_no_data(engine: Client) -> None:
    session = SessionStore()
    session["foo"] = "bar"
    session.save()
    del session["foo"]
    session.save()
    assert engine.get(key_of(session)).data == {}


def test_clear_then_save_removes_what_was_stored_without_reading_it(engine: Client) -> None:
    key = engine.create({"a": 1, "b": 2}).id
    session = SessionStore(key)
    session.clear()
    session["c"] = 3
    session.save()
    assert engine.get(key).data == {"c": 3}


def test_saving_a_session_deleted_elsewhere_raises_update_error(engine: Client) -> None:
    session = SessionStore()
    session["a"] = 1
    session.save()
    engine.flush(key_of(session))
    session["a"] = 2
    with pytest.raises(UpdateError):
        session.save()
    with pytest.raises(sessiond.SessionNotFound):
        engine.get(key_of(session))


# Concurrent requests: the lost update of whole-session engines.


def two_requests_change_different_keys(engine_name: str) -> dict[str, Any]:
    """Two requests load one session, each changes its own key, both save.
    Returns what a third request then reads."""
    store: type[SessionBase] = import_module(engine_name).SessionStore
    first = store()
    first.update({"cart": [], "theme": "light"})
    first.save()
    key = first.session_key
    cart_request, theme_request = store(key), store(key)
    cart_request["cart"] = [42]
    theme_request["theme"] = "dark"
    cart_request.save()
    theme_request.save()
    return dict(store(key).items())


@pytest.fixture(scope="module")
def database() -> None:
    call_command("migrate", "sessions", verbosity=0)


def test_concurrent_requests_changing_different_keys_both_survive(engine: Client) -> None:
    assert two_requests_change_different_keys("sessiond.django") == {
        "cart": [42],
        "theme": "dark",
    }


@pytest.mark.parametrize(
    "django_engine",
    ["django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cache"],
)
def test_djangos_whole_session_engines_lose_one_of_the_two(
    django_engine: str, database: None
) -> None:
    # What the README says of Django's db and cache engines: the later save
    # writes back the whole session it loaded, undoing the other's change.
    assert two_requests_change_different_keys(django_engine) == {"cart": [], "theme": "dark"}


def test_compare_and_set_refuses_a_save_over_a_concurrent_change(server: Server) -> None:
    with override_settings(SESSIOND_TARGET=server.grpc_addr, SESSIOND_COMPARE_AND_SET=True):
        first = SessionStore()
        first["n"] = 0
        first.save()
        one, two = SessionStore(first.session_key), SessionStore(first.session_key)
        one["n"] = one["n"] + 1
        two["n"] = two["n"] + 1
        one.save()
        with pytest.raises(sessiond.VersionConflict):
            two.save()
        assert SessionStore(first.session_key)["n"] == 1


# Expiry.


def test_set_expiry_becomes_the_idle_timeout(engine: Client) -> None:
    session = SessionStore()
    session["a"] = 1
    session.save()
    assert engine.get(key_of(session)).idle_timeout == timedelta(weeks=2)
    session.set_expiry(300)
    session.save()
    assert engine.get(key_of(session)).idle_timeout == timedelta(seconds=300)
    session.set_expiry(None)
    session.save()
    assert engine.get(key_of(session)).idle_timeout == timedelta(weeks=2)


@override_settings(SESSION_COOKIE_AGE=600)
def test_session_cookie_age_is_the_default_idle_timeout(engine: Client) -> None:
    session = SessionStore()
    session.save()
    assert engine.get(key_of(session)).idle_timeout == timedelta(minutes=10)


def test_an_expiry_in_the_past_ends_the_session_at_save(engine: Client) -> None:
    session = SessionStore()
    session["a"] = 1
    session.save()
    session.set_expiry(-timedelta(seconds=10))
    session.save()
    with pytest.raises(sessiond.SessionNotFound):
        engine.get(key_of(session))


# Rotation and login.


def test_cycle_key_rotates_keeping_data_and_killing_the_old_id(engine: Client) -> None:
    session = SessionStore()
    session["cart"] = [1]
    session.save()
    old = key_of(session)
    session.modified = False
    session.cycle_key()
    assert session.session_key != old
    assert session.modified is True
    assert engine.get(key_of(session)).data == {"cart": [1]}
    with pytest.raises(sessiond.SessionNotFound):
        engine.get(old)


def request_with_session(key: str | None) -> HttpRequest:
    request = RequestFactory().get("/")
    request.session = SessionStore(key)
    return request


def test_login_rotates_the_anonymous_session_and_logout_flushes_it(
    engine: Client, database: None
) -> None:
    call_command("migrate", "auth", verbosity=0)
    user = User.objects.create_user("yuan", password="pw")
    anonymous = SessionStore()
    anonymous["cart"] = [7]
    anonymous.save()

    request = request_with_session(anonymous.session_key)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session.save()
    logged_in = key_of(request.session)
    assert logged_in != anonymous.session_key
    stored = engine.get(logged_in).data
    assert stored["cart"] == [7]
    assert stored["_auth_user_id"] == str(user.pk)
    with pytest.raises(sessiond.SessionNotFound):
        engine.get(key_of(anonymous))

    request = request_with_session(logged_in)
    logout(request)
    with pytest.raises(sessiond.SessionNotFound):
        engine.get(logged_in)


def test_login_binds_the_session_to_its_user_and_logging_out_elsewhere_is_one_call(
    engine: Client, database: None
) -> None:
    call_command("migrate", "auth", verbosity=0)
    user = User.objects.create_user("wang", password="pw")
    devices = []
    for _ in range(3):
        request = request_with_session(None)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        request.session.save()
        devices.append(request.session)
    here = devices[0]
    assert isinstance(here, SessionStore)
    listed = here.user_sessions()
    assert len(listed) == 3
    assert [s.current for s in listed].count(True) == 1
    assert all(s.handle != key_of(d) for s in listed for d in devices)

    assert here.revoke_other_sessions() == 2
    assert engine.get(key_of(here)).data["_auth_user_id"] == str(user.pk)
    for other in devices[1:]:
        with pytest.raises(sessiond.SessionNotFound):
            engine.get(key_of(other))
    assert [s.current for s in here.user_sessions()] == [True]
    assert SessionStore().user_sessions() == [], "no user, no listing"


# Async.


async def test_async_saves_changing_different_keys_both_survive(engine: Client) -> None:
    session = SessionStore()
    session.update({"cart": [], "theme": "light"})
    await session.asave()
    key = key_of(session)
    one, two = SessionStore(key), SessionStore(key)
    (await one._aget_session())["cart"] = [42]
    (await two._aget_session())["theme"] = "dark"
    one.modified = two.modified = True
    await one.asave()
    await two.asave()
    assert engine.get(key).data == {"cart": [42], "theme": "dark"}
    assert await SessionStore(key).aexists(key) is True


async def test_async_cycle_key_and_delete(engine: Client) -> None:
    session = SessionStore()
    session["a"] = 1
    await session.asave()
    old = key_of(session)
    await session.acycle_key()
    assert session.session_key != old
    assert not await session.aexists(old)
    await session.adelete()
    assert not await session.aexists(session.session_key)
