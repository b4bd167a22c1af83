"""A Django session engine that keeps sessions in sessiond.

    SESSION_ENGINE = "sessiond.django"
    SESSIOND_TARGET = "127.0.0.1:50051"

Optional settings: ``SESSIOND_TOKEN`` (or ``SESSIOND_TOKEN_FILE``, a file
holding it), ``SESSIOND_TIMEOUT`` (seconds, default 5), ``SESSIOND_TLS_CA``,
``SESSIOND_TLS_CERT`` and ``SESSIOND_TLS_KEY`` (PEM files),
``SESSIOND_TLS_SERVER_NAME``, and ``SESSIOND_COMPARE_AND_SET`` (default
``False``).

How it differs from Django's own engines, on purpose:

- Keys are issued by sessiond, never made here: ``create()`` calls Create,
  ``cycle_key()`` (which ``login()`` calls) calls Rotate, so the old id is
  dead at once and the data kept.
- ``save()`` sends only what changed since the session was read: upserts of
  the keys whose value changed, removals of the keys that went. Two requests
  that change different keys of one session both land, where Django's db
  and cache engines write the whole session back and lose one of them. With
  ``SESSIOND_COMPARE_AND_SET = True`` a save also carries the version it
  read, and a concurrent change makes it raise :class:`VersionConflict`.
- Values are stored one JSON document per key (``SESSION_SERIALIZER`` is
  not used: the types it accepts are those of Django's JSONSerializer).
- The session's expiry (``set_expiry``, ``SESSION_COOKIE_AGE``) is its idle
  timeout in sessiond; sessiond evicts, so ``clear_expired()`` does nothing.
- The session is bound to its user: when a save stores Django's
  ``_auth_user_id`` (``login()`` sets it), the session is created bound to
  that user or bound with BindUser, and unbound when it goes. A user's
  sessions can then be listed (:meth:`SessionStore.user_sessions`) and
  "log out everywhere else" is one call
  (:meth:`SessionStore.revoke_other_sessions`).
- When sessiond cannot be reached, calls fail closed within the timeout
  with :class:`sessiond.SessiondUnavailable`: a request that needs its
  session gets a 500, never someone else's session or a hang.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import CreateError, SessionBase, UpdateError
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

from sessiond import aio
from sessiond._config import OptionError
from sessiond._types import SessionInfo, UserSession
from sessiond._values import encode_values
from sessiond.client import Client
from sessiond.errors import InvalidArgument, SessionNotFound

__all__ = ["SessionStore"]

# The ids sessiond issues. Anything else names no session, so it is not
# worth a call (and a forged cookie costs the server nothing).
_ID = re.compile(r"[a-z0-9]{32}")

# django.contrib.auth.SESSION_KEY, which login() sets to the user's pk as a
# string: the user a session is bound to in sessiond.
_USER_KEY = "_auth_user_id"


def _user_of(encoded: dict[str, str]) -> str | None:
    """The user id a session's stored ``_auth_user_id`` names, if any."""
    text = encoded.get(_USER_KEY)
    if text is None:
        return None
    value = json.loads(text)
    return value if isinstance(value, str) else json.dumps(value)


# Client options and the settings they come from, for error messages.
_SETTING_OF = {
    "target": "SESSIOND_TARGET",
    "token": "SESSIOND_TOKEN",
    "timeout": "SESSIOND_TIMEOUT",
    "tls": "SESSIOND_TLS_CA",
    "tls_ca": "SESSIOND_TLS_CA",
    "tls_cert": "SESSIOND_TLS_CERT",
    "tls_key": "SESSIOND_TLS_KEY",
    "tls_server_name": "SESSIOND_TLS_SERVER_NAME",
}


class _Engine:
    """The settings, read once, and the two clients they make."""

    def __init__(self) -> None:
        target = getattr(settings, "SESSIOND_TARGET", None)
        if not target:
            raise ImproperlyConfigured(
                "SESSIOND_TARGET is not set: the host:port of sessiond's gRPC API, "
                "e.g. SESSIOND_TARGET = '127.0.0.1:50051'"
            )
        options: dict[str, Any] = {
            "token": _token(),
            "timeout": getattr(settings, "SESSIOND_TIMEOUT", 5.0),
            "tls_ca": getattr(settings, "SESSIOND_TLS_CA", None),
            "tls_cert": getattr(settings, "SESSIOND_TLS_CERT", None),
            "tls_key": getattr(settings, "SESSIOND_TLS_KEY", None),
            "tls_server_name": getattr(settings, "SESSIOND_TLS_SERVER_NAME", None),
        }
        try:
            self.sync = Client(target, **options)
            self.aio = aio.Client(target, **options)
        except OptionError as error:
            setting = _SETTING_OF.get(error.option, error.option)
            raise ImproperlyConfigured(f"{setting}: {error}") from None
        self.compare_and_set = bool(getattr(settings, "SESSIOND_COMPARE_AND_SET", False))


def _token() -> str | None:
    token: str | None = getattr(settings, "SESSIOND_TOKEN", None)
    path = getattr(settings, "SESSIOND_TOKEN_FILE", None)
    if token is not None and path is not None:
        raise ImproperlyConfigured("SESSIOND_TOKEN and SESSIOND_TOKEN_FILE: set only one")
    if path is None:
        return token
    try:
        with open(path, encoding="ascii") as file:
            return file.read().strip()
    except (OSError, ValueError) as error:
        raise ImproperlyConfigured(f"SESSIOND_TOKEN_FILE: cannot read {path!r}: {error}") from None


@functools.cache
def _engine() -> _Engine:
    """The process's engine: one channel per process, reused by every
    request (the clients open it lazily, after any fork)."""
    return _Engine()


def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("SESSIOND_"):
        _engine.cache_clear()


setting_changed.connect(_settings_changed)


class SessionStore(SessionBase):
    """Django's ``request.session``, kept in sessiond."""

    def __init__(self, session_key: str | None = None) -> None:
        self._engine = _engine()
        super().__init__(session_key)
        self._forget()

    # What sessiond holds, as of the last read or write: the JSON text of
    # each key (the base of the next save's diff), the version (for
    # compare-and-set) and the idle timeout in seconds. _version is None
    # while that is unknown.
    def _forget(self) -> None:
        self._stored: dict[str, str] = {}
        self._version: int | None = None
        self._idle: int | None = None

    def _remember(self, stored: dict[str, str], info: SessionInfo) -> None:
        self._stored = stored
        self._version = info.version
        self._idle = int(info.idle_timeout.total_seconds())

    def _idle_timeout(self) -> int | None:
        """The idle timeout the session should have (at least sessiond's
        1 s floor), or None if its expiry has already passed."""
        age = self.get_expiry_age()
        return None if age <= 0 else max(int(age), 1)

    def _diff(self, data: dict[str, Any]) -> tuple[dict[str, str], dict[str, str], list[str]]:
        """``data`` encoded (a ``TypeError`` naming a bad key before any
        call), and the upserts and removals that turn the stored session into it."""
        encoded = encode_values(data)
        upsert = {k: v for k, v in encoded.items() if self._stored.get(k) != v}
        remove = [k for k in self._stored if k not in encoded]
        return encoded, upsert, remove

    def _expected(self) -> int | None:
        return self._version if self._engine.compare_and_set else None

    def _adopt_rotated(self, info: SessionInfo) -> None:
        self._session_key = info.id
        self._remember(self._stored, info)
        # The id changed: the middleware must send the new cookie.
        self.modified = True

    # The SessionBase contract, sync.

    def exists(self, session_key: str | None) -> bool:
        if not session_key or not _ID.fullmatch(session_key):
            return False
        try:
            self._engine.sync.get(session_key, no_touch=True)
        except SessionNotFound:
            return False
        return True

    def load(self) -> dict[str, Any]:
        key = self.session_key
        if key and _ID.fullmatch(key):
            try:
                session = self._engine.sync.get(key)
            except (SessionNotFound, InvalidArgument):
                pass
            else:
                self._remember(session.raw, session)
                return session.data
        # Unknown, expired, malformed or another namespace's: a new empty
        # session, and nothing is created until it is saved.
        self._session_key = None
        self._forget()
        return {}

    def create(self) -> None:
        data = self._get_session(no_load=True)  # type: ignore[attr-defined]
        encoded = encode_values(data)
        idle = self._idle_timeout()
        self.modified = True
        if idle is None:
            # Already expired (set_expiry in the past): nothing to keep.
            self._session_key = None
            self._forget()
            return
        info = self._engine.sync.create_json(encoded, idle_timeout=idle, user_id=_user_of(encoded))
        self._session_key = info.id
        self._remember(encoded, info)

    def save(self, must_create: bool = False) -> None:
        if must_create and self.session_key is not None:
            raise CreateError("sessiond issues session keys; it never creates one chosen here")
        data = self._get_session()  # type: ignore[attr-defined]
        key = self.session_key
        if key is None:
            return self.create()
        if self._version is None:
            # Data set without reading (clear()): learn what to remove.
            try:
                self._stored = self._engine.sync.get(key, no_touch=True).raw
            except SessionNotFound:
                raise UpdateError from None
        encoded, upsert, remove = self._diff(data)
        idle = self._idle_timeout()
        client = self._engine.sync
        try:
            if idle is None:
                client.flush(key)
                self._forget()
                return
            info = None
            if upsert or remove:
                info = client.set_json(key, upsert, remove, expected_version=self._expected())
            if info is None or idle != self._idle:
                info = client.touch(key, idle_timeout=idle)
            user = _user_of(encoded)
            if user != _user_of(self._stored):
                info = client.bind_user(key, user)
        except SessionNotFound:
            # Flushed elsewhere (logout in another tab): never resurrect it.
            raise UpdateError from None
        self._remember(encoded, info)

    def delete(self, session_key: str | None = None) -> None:
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        if _ID.fullmatch(session_key):
            self._engine.sync.flush(session_key)
        if session_key == self.session_key:
            self._forget()

    def cycle_key(self) -> None:
        data = self._session  # type: ignore[attr-defined]
        key = self.session_key
        if key is not None:
            try:
                return self._adopt_rotated(self._engine.sync.rotate(key))
            except SessionNotFound:
                self._session_key = None
                self._forget()
        # Never stored, or gone meanwhile: a new session holding the data.
        self._session_cache = data
        self.create()

    # A user's sessions (sessiond's own, beyond SessionBase).

    def _user(self) -> str | None:
        return _user_of(encode_values(self._get_session()))  # type: ignore[attr-defined]

    def user_sessions(self) -> list[UserSession]:
        """The sessions of this session's user, this one marked
        ``current``; empty when no user is logged in."""
        user = self._user()
        if user is None:
            return []
        return self._engine.sync.list_user_sessions(user, current_id=self.session_key)

    def revoke_other_sessions(self) -> int:
        """Logs this session's user out everywhere else (after a password
        change, say); how many sessions ended. This one stays."""
        user = self._user()
        if user is None:
            return 0
        return self._engine.sync.revoke_user_sessions(user, except_id=self.session_key)

    async def auser_sessions(self) -> list[UserSession]:
        """See :meth:`user_sessions`."""
        user = _user_of(encode_values(await self._aget_session()))
        if user is None:
            return []
        return await self._engine.aio.list_user_sessions(user, current_id=self.session_key)

    async def arevoke_other_sessions(self) -> int:
        """See :meth:`revoke_other_sessions`."""
        user = _user_of(encode_values(await self._aget_session()))
        if user is None:
            return 0
        return await self._engine.aio.revoke_user_sessions(user, except_id=self.session_key)

    @classmethod
    def clear_expired(cls) -> None:
        """Nothing to do: sessiond evicts expired sessions itself."""

    # The same, async (Django 5.0 and later call these).

    async def _aget_session(self, no_load: bool = False) -> dict[str, Any]:
        # As Django 5's, so that the methods below also work on Django 4.2.
        self.accessed = True
        try:
            return self._session_cache  # type: ignore[no-any-return]
        except AttributeError:
            if self.session_key is None or no_load:
                self._session_cache = {}
            else:
                self._session_cache = await self.aload()
        return self._session_cache  # type: ignore[no-any-return]

    async def aexists(self, session_key: str | None) -> bool:
        if not session_key or not _ID.fullmatch(session_key):
            return False
        try:
            await self._engine.aio.get(session_key, no_touch=True)
        except SessionNotFound:
            return False
        return True

    async def aload(self) -> dict[str, Any]:
        key = self.session_key
        if key and _ID.fullmatch(key):
            try:
                session = await self._engine.aio.get(key)
            except (SessionNotFound, InvalidArgument):
                pass
            else:
                self._remember(session.raw, session)
                return session.data
        self._session_key = None
        self._forget()
        return {}

    async def acreate(self) -> None:
        data = await self._aget_session(no_load=True)
        encoded = encode_values(data)
        idle = self._idle_timeout()
        self.modified = True
        if idle is None:
            self._session_key = None
            self._forget()
            return
        info = await self._engine.aio.create_json(
            encoded, idle_timeout=idle, user_id=_user_of(encoded)
        )
        self._session_key = info.id
        self._remember(encoded, info)

    async def asave(self, must_create: bool = False) -> None:
        if must_create and self.session_key is not None:
            raise CreateError("sessiond issues session keys; it never creates one chosen here")
        data = await self._aget_session()
        key = self.session_key
        if key is None:
            return await self.acreate()
        client = self._engine.aio
        if self._version is None:
            try:
                self._stored = (await client.get(key, no_touch=True)).raw
            except SessionNotFound:
                raise UpdateError from None
        encoded, upsert, remove = self._diff(data)
        idle = self._idle_timeout()
        try:
            if idle is None:
                await client.flush(key)
                self._forget()
                return
            info = None
            if upsert or remove:
                info = await client.set_json(key, upsert, remove, expected_version=self._expected())
            if info is None or idle != self._idle:
                info = await client.touch(key, idle_timeout=idle)
            user = _user_of(encoded)
            if user != _user_of(self._stored):
                info = await client.bind_user(key, user)
        except SessionNotFound:
            raise UpdateError from None
        self._remember(encoded, info)

    async def adelete(self, session_key: str | None = None) -> None:
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        if _ID.fullmatch(session_key):
            await self._engine.aio.flush(session_key)
        if session_key == self.session_key:
            self._forget()

    async def acycle_key(self) -> None:
        data = await self._aget_session()
        key = self.session_key
        if key is not None:
            try:
                return self._adopt_rotated(await self._engine.aio.rotate(key))
            except SessionNotFound:
                self._session_key = None
                self._forget()
        self._session_cache = data
        await self.acreate()

    @classmethod
    async def aclear_expired(cls) -> None:
        """Nothing to do: sessiond evicts expired sessions itself."""
