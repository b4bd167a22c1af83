"""The Django example end to end: gunicorn, two workers, sessions in sessiond.

Starts the sessiond binary named by SESSIOND_BIN (scripts/test-example.sh
builds it) with access control on, as in production; migrates a fresh SQLite
database and creates the demo user; serves the project with gunicorn and two
sync workers; all on free loopback ports. Then it drives the site as a
browser would (a cookie jar, Django's CSRF token in every form, redirects not
followed so that each response can be looked at) and checks sessiond's side
of every step with the sessiond client.
"""

from __future__ import annotations

import json
import os
import queue
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from http import cookiejar
from http.cookies import Morsel, SimpleCookie
from pathlib import Path
from typing import IO, Any

from sessiond import Client, SessionNotFound

HERE = Path(__file__).resolve().parent
# Seconds: for each process to start or stop, and for each HTTP request.
TIMEOUT = 30
USERNAME = "demo"
PASSWORD = secrets.token_urlsafe(16)
SESSION_ID = re.compile(r"^[a-z0-9]{32}$")


class Output:
    """A child process's output, read line by line on a thread: the child
    never blocks on a full pipe, and a test can wait for a line."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: list[str] = []
        self._unread: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        with stream:
            for line in stream:
                self.lines.append(line)
                self._unread.put(line)
        self._unread.put(None)

    def wait_for(self, match: Callable[[str], Any]) -> Any:
        """The first truthy match(line) over the lines not yet waited past,
        within TIMEOUT; an error if the process ends or the time runs out."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                line = self._unread.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                raise RuntimeError(f"timed out waiting; output so far:\n{self}") from None
            if line is None:
                raise RuntimeError(f"the process exited; its output:\n{self}")
            if found := match(line):
                return found

    def __str__(self) -> str:
        return "".join(self.lines)


def start(args: list[str], **kwargs: Any) -> tuple[subprocess.Popen[str], Output]:
    """Starts a process; an Output collects its stderr, where sessiond and
    gunicorn log."""
    proc = subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )
    assert proc.stderr is not None
    return proc, Output(proc.stderr)


def stop(name: str, proc: subprocess.Popen[str], output: Output) -> None:
    """SIGTERM, as an orchestrator stops a service: it must exit 0."""
    proc.terminate()
    try:
        code = proc.wait(TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise
    if code != 0:
        raise RuntimeError(f"{name} exited {code} on SIGTERM:\n{output}")


def serving_event(line: str) -> dict[str, Any] | None:
    """sessiond's JSON log event saying where it listens, if line is it."""
    event = json.loads(line)
    return event if event.get("message") == "sessiond serving" else None


@dataclass
class Response:
    status: int
    headers: Message
    body: str

    def json(self) -> Any:
        return json.loads(self.body)

    def set_cookie(self, name: str) -> Morsel[str] | None:
        """The cookie this response sets (or expires) under name, parsed."""
        for header in self.headers.get_all("Set-Cookie", []):
            cookie = SimpleCookie()
            cookie.load(header)
            if name in cookie:
                return cookie[name]
        return None


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    """What the tests need of a browser: a cookie jar, and forms that carry
    the CSRF token from the csrftoken cookie, as {% csrf_token %} makes them."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirects()
        )

    def get(self, path: str) -> Response:
        return self._open(path)

    def post(self, path: str, form: dict[str, str] | None = None, csrf: bool = True) -> Response:
        fields = dict(form or {})
        if csrf:
            fields["csrfmiddlewaretoken"] = self.cookie("csrftoken") or ""
        return self._open(path, urllib.parse.urlencode(fields).encode())

    def cookie(self, name: str) -> str | None:
        """The value the jar holds for name (and would send), if any."""
        return next((c.value for c in self.jar if c.name == name), None)

    def set_cookie(self, name: str, value: str) -> None:
        """Puts a cookie in the jar as if the site had set it."""
        host = urllib.parse.urlsplit(self.base).hostname or ""
        self.jar.set_cookie(
            cookiejar.Cookie(
                version=0,
                name=name,
                value=value,
                port=None,
                port_specified=False,
                domain=host,
                domain_specified=False,
                domain_initial_dot=False,
                path="/",
                path_specified=True,
                secure=False,
                expires=None,
                discard=False,
                comment=None,
                comment_url=None,
                rest={},
            )
        )

    def _open(self, path: str, data: bytes | None = None) -> Response:
        try:
            with self._opener.open(self.base + path, data=data, timeout=TIMEOUT) as response:
                return Response(response.status, response.headers, response.read().decode())
        except urllib.error.HTTPError as error:  # 3xx (not followed), 4xx, 5xx
            with error:
                return Response(error.code, error.headers, error.read().decode())


class DjangoExample(unittest.TestCase):
    """One sessiond, one database and one gunicorn for all the tests; each
    test is a new browser, so its sessions are its own."""

    sessiond: Client
    base: str
    worker_pids: set[int]
    gunicorn_output: Output

    @classmethod
    def setUpClass(cls) -> None:
        tmp = tempfile.TemporaryDirectory()
        cls.addClassCleanup(tmp.cleanup)
        directory = Path(tmp.name)

        # A fresh token; sessiond's tokens file holds only its hash.
        token = secrets.token_hex(32)
        token_file = directory / "token"
        token_file.write_text(token)
        tokens_file = directory / "tokens"
        tokens_file.write_text(
            subprocess.run(
                [os.environ["SESSIOND_BIN"], "hash-token", "example"],
                input=token + "\n",
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )

        sessiond_flags = (
            "--grpc-addr 127.0.0.1:0 --http-addr 127.0.0.1:0 --admin-addr 127.0.0.1:0"
            " --drain-delay 0s --log-format json"
        )
        sessiond, output = start(
            [os.environ["SESSIOND_BIN"], *sessiond_flags.split(), "--tokens-file", str(tokens_file)]
        )
        cls.addClassCleanup(stop, "sessiond", sessiond, output)
        grpc_addr = output.wait_for(serving_event)["grpc_addr"]

        cls.sessiond = Client(grpc_addr, token=token)
        cls.addClassCleanup(cls.sessiond.close)

        env = dict(
            os.environ,
            SESSIOND_TARGET=grpc_addr,
            SESSIOND_TOKEN_FILE=str(token_file),
            DJANGO_DB_PATH=str(directory / "db.sqlite3"),
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            DEMO_USERNAME=USERNAME,
            DEMO_PASSWORD=PASSWORD,
        )
        env.pop("DEBUG", None)
        for command in ("migrate --noinput", "ensure_demo_user"):
            done = subprocess.run(
                [sys.executable, "manage.py", *command.split()],
                cwd=HERE,
                env=env,
                capture_output=True,
                text=True,
                timeout=TIMEOUT * 4,
            )
            if done.returncode != 0:
                raise RuntimeError(f"manage.py {command} failed:\n{done.stdout}{done.stderr}")

        gunicorn_flags = f"--workers 2 --bind 127.0.0.1:0 --graceful-timeout {TIMEOUT // 2}"
        gunicorn, cls.gunicorn_output = start(
            [sys.executable, "-m", "gunicorn", *gunicorn_flags.split(), "demo.wsgi"],
            cwd=HERE,
            env=env,
        )
        cls.addClassCleanup(stop, "gunicorn", gunicorn, cls.gunicorn_output)
        cls.base = cls.gunicorn_output.wait_for(
            lambda line: re.search(r"Listening at: (http://\S+)", line)
        ).group(1)
        cls.worker_pids = {
            int(
                cls.gunicorn_output.wait_for(
                    lambda line: re.search(r"Booting worker with pid: (\d+)", line)
                ).group(1)
            )
            for _ in range(2)
        }

    def browser(self) -> Browser:
        return Browser(self.base)

    def log_in(self, browser: Browser) -> Response:
        """The login form, filled in and sent: the response to the POST."""
        self.assertEqual(browser.get("/login").status, 200)
        response = browser.post("/login", {"username": USERNAME, "password": PASSWORD})
        self.assertEqual(response.status, 302, response.body)
        self.assertEqual(response.headers["Location"], "/")
        return response

    def session_id(self, browser: Browser) -> str:
        """The session id the browser holds, which must be one sessiond issued."""
        session_id = browser.cookie("sessionid")
        assert session_id is not None, "the browser holds a session cookie"
        self.assertRegex(session_id, SESSION_ID)
        return session_id

    def session_cookie(self, response: Response) -> Morsel[str]:
        """The session cookie the response sets, which it must set."""
        cookie = response.set_cookie("sessionid")
        assert cookie is not None, f"the response sets the session cookie: {response.headers}"
        return cookie

    def stored(self, session_id: str) -> dict[str, Any]:
        """The session's data as sessiond holds it (without touching it)."""
        return self.sessiond.get(session_id, no_touch=True).data

    def assertGone(self, session_id: str) -> None:
        with self.assertRaises(SessionNotFound):
            self.sessiond.get(session_id, no_touch=True)

    def test_no_session_is_made_until_the_site_stores_something(self) -> None:
        browser = self.browser()
        response = browser.get("/")
        self.assertEqual(response.status, 200)
        self.assertIn("Not logged in.", response.body)
        self.assertIsNone(response.set_cookie("sessionid"))
        self.assertEqual(browser.get("/whoami").json()["visits"], 0)
        self.assertIsNone(browser.cookie("sessionid"))

    def test_login_sets_the_session_cookie_httponly_and_samesite_lax(self) -> None:
        browser = self.browser()
        cookie = self.session_cookie(self.log_in(browser))
        self.assertRegex(cookie.value, SESSION_ID)
        self.assertTrue(cookie["httponly"])
        self.assertEqual(cookie["samesite"], "Lax")
        self.assertEqual(cookie["path"], "/")
        self.assertEqual(self.session_id(browser), cookie.value)
        # The session lives in sessiond: Django's auth keys are there.
        self.assertIn("_auth_user_id", self.stored(cookie.value))
        self.assertIn(f"Logged in as <b>{USERNAME}</b>.", browser.get("/").body)

    def test_a_wrong_password_logs_nobody_in(self) -> None:
        browser = self.browser()
        browser.get("/login")
        response = browser.post("/login", {"username": USERNAME, "password": "not " + PASSWORD})
        self.assertEqual(response.status, 200)
        self.assertIn("Wrong username or password.", response.body)
        self.assertIsNone(browser.cookie("sessionid"))

    def test_a_post_without_the_csrf_token_is_refused(self) -> None:
        browser = self.browser()
        browser.get("/")
        self.assertEqual(browser.post("/visit", csrf=False).status, 403)
        response = browser.post("/login", {"username": USERNAME, "password": PASSWORD}, csrf=False)
        self.assertEqual(response.status, 403)
        self.assertIsNone(browser.cookie("sessionid"))

    def test_the_session_persists_across_requests_and_both_workers(self) -> None:
        browser = self.browser()
        self.log_in(browser)
        self.assertEqual(browser.post("/visit").status, 302)
        # A request whose headers have not ended keeps the sync worker that
        # took it reading, so every request meanwhile goes to the other one
        # (left to the kernel, one worker may take them all).
        held = self.hold("/whoami", browser)
        try:
            others: set[int] = set()
            for visits in range(2, 5):
                self.assertEqual(browser.post("/visit").status, 302)
                whoami = browser.get("/whoami").json()
                self.assertEqual((whoami["username"], whoami["visits"]), (USERNAME, visits))
                others.add(whoami["pid"])
            self.assertEqual(
                len(others), 1, f"one worker answered while the other was held: {others}"
            )
            # The held worker now reads what the other one wrote.
            first = self.release(held)
        finally:
            held.close()
        self.assertEqual((first["username"], first["visits"]), (USERNAME, 4))
        self.assertEqual({first["pid"]} | others, self.worker_pids, "both workers answered")
        self.assertEqual(self.stored(self.session_id(browser))["visits"], 4)

    def hold(self, path: str, browser: Browser) -> socket.socket:
        """A GET of path with the browser's session cookie, sent but for
        the blank line that ends its headers."""
        url = urllib.parse.urlsplit(self.base)
        sock = socket.create_connection((url.hostname or "", url.port or 80), timeout=TIMEOUT)
        cookie = f"sessionid={browser.cookie('sessionid')}"
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {url.netloc}\r\nCookie: {cookie}\r\n".encode())
        return sock

    def release(self, sock: socket.socket) -> Any:
        """Ends a held request's headers and answers its JSON body."""
        sock.sendall(b"Connection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), head[:100])
        return json.loads(body)

    def test_login_gives_the_session_a_new_id_and_keeps_its_data(self) -> None:
        browser = self.browser()
        browser.get("/")
        browser.post("/visit")
        browser.post("/visit")
        before = self.session_id(browser)
        self.assertEqual(self.stored(before)["visits"], 2)

        self.log_in(browser)
        after = self.session_id(browser)
        self.assertNotEqual(after, before)
        self.assertGone(before)
        self.assertEqual(self.stored(after)["visits"], 2)
        whoami = browser.get("/whoami").json()
        self.assertEqual((whoami["username"], whoami["visits"]), (USERNAME, 2))

        # Whoever planted or kept the old id (session fixation) is no one.
        attacker = self.browser()
        attacker.set_cookie("sessionid", before)
        self.assertIsNone(attacker.get("/whoami").json()["username"])

    def test_logout_deletes_the_session_and_expires_the_cookie(self) -> None:
        browser = self.browser()
        self.log_in(browser)
        session_id = self.session_id(browser)
        response = browser.post("/logout")
        self.assertEqual(response.status, 302)
        cookie = self.session_cookie(response)
        self.assertEqual(cookie.value, "")
        self.assertEqual(cookie["max-age"], "0")
        self.assertIn("1970", cookie["expires"])
        self.assertIsNone(browser.cookie("sessionid"))
        self.assertGone(session_id)
        self.assertIn("Not logged in.", browser.get("/").body)

    def test_a_stale_cookie_after_logout_gets_a_fresh_anonymous_session(self) -> None:
        browser = self.browser()
        self.log_in(browser)
        browser.post("/visit")
        stale = self.session_id(browser)
        browser.post("/logout")

        browser.set_cookie("sessionid", stale)
        whoami = browser.get("/whoami").json()
        self.assertEqual((whoami["username"], whoami["visits"]), (None, 0))

        browser.set_cookie("sessionid", stale)
        fresh = self.session_cookie(browser.post("/visit")).value
        self.assertRegex(fresh, SESSION_ID)
        self.assertNotEqual(fresh, stale)
        self.assertGone(stale)
        self.assertEqual(self.stored(fresh), {"visits": 1})
        whoami = browser.get("/whoami").json()
        self.assertEqual((whoami["username"], whoami["visits"]), (None, 1))

    def test_a_garbage_session_cookie_is_an_anonymous_session_not_an_error(self) -> None:
        for garbage in ["garbage", "0" * 32, "NOT-an-id_" * 4, "a" * 1000]:
            with self.subTest(cookie=garbage[:40]):
                browser = self.browser()
                browser.set_cookie("sessionid", garbage)
                response = browser.get("/")
                self.assertEqual(response.status, 200)
                self.assertIn("Not logged in.", response.body)
                browser.set_cookie("sessionid", garbage)
                self.assertIsNone(browser.get("/whoami").json()["username"])
                browser.set_cookie("sessionid", garbage)
                fresh = self.session_cookie(browser.post("/visit")).value
                self.assertRegex(fresh, SESSION_ID)
                self.assertEqual(self.stored(fresh), {"visits": 1})


if __name__ == "__main__":
    unittest.main()
