"""The example backend against a real sessiond: login, page, logout.

Starts the sessiond binary named by SESSIOND_BIN (scripts/test-example.sh
builds it) and app.py, both on free loopback ports, and walks the flow as a
browser would, checking sessiond's side over gRPC and its metrics.
sessiond runs with access control, as in production: the backend sends a
bearer token whose hash is in sessiond's tokens file.
"""

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.parse
import urllib.request
from http import cookiejar

import grpc

from sessiond.v1 import sessiond_pb2 as pb
from sessiond.v1 import sessiond_pb2_grpc as pb_grpc

import app

HERE = os.path.dirname(os.path.abspath(__file__))
TIMEOUT = 20


def make_token(directory):
    """A fresh token in directory/token and its hash line (made by
    `sessiond hash-token`) in directory/tokens; returns the token file."""
    token = secrets.token_hex(32)
    token_file = os.path.join(directory, "token")
    with open(token_file, "w") as f:
        f.write(token)
    line = subprocess.run(
        [os.environ["SESSIOND_BIN"], "hash-token", "example"],
        input=token + "\n", capture_output=True, text=True, check=True,
    ).stdout
    with open(os.path.join(directory, "tokens"), "w") as f:
        f.write(line)
    return token_file


def start_sessiond(tokens):
    """Starts sessiond on ephemeral ports; returns (process, grpc, admin)."""
    binary = os.environ["SESSIOND_BIN"]
    proc = subprocess.Popen(
        [binary, "--grpc-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0",
         "--http-addr", "127.0.0.1:0", "--tokens-file", tokens,
         "--drain-delay", "0s", "--log-format", "json"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    for line in proc.stderr:
        event = json.loads(line)
        if event.get("message") == "sessiond serving":
            return proc, event["grpc_addr"], event["admin_addr"]
    raise RuntimeError(f"sessiond exited with {proc.wait()} before serving")


def start_app(grpc_addr, token_file):
    """Starts app.py on a free port; returns (process, base URL)."""
    env = dict(os.environ, SESSION_GRPC_TARGET=grpc_addr, LISTEN="127.0.0.1:0",
               SESSION_GRPC_TOKEN_FILE=token_file)
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "app.py")],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True,
    )
    line = proc.stdout.readline()
    match = re.match(r"listening on (http://\S+)", line)
    if not match:
        proc.kill()
        raise RuntimeError(f"app.py did not start: {line!r}")
    return proc, match.group(1)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class LoginPageLogout(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        token_file = make_token(self.dir.name)
        self.sessiond, grpc_addr, self.admin_addr = start_sessiond(
            os.path.join(self.dir.name, "tokens"))
        self.app, self.base = start_app(grpc_addr, token_file)
        self.grpc_addr = grpc_addr
        self.channel = app.channel(grpc_addr, token_file)
        self.stub = pb_grpc.SessionServiceStub(self.channel)
        self.jar = cookiejar.CookieJar()
        self.browser = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )

    def tearDown(self):
        self.channel.close()
        self.dir.cleanup()
        self.app.terminate()
        self.app.wait(TIMEOUT)
        self.app.stdout.close()
        self.sessiond.send_signal(signal.SIGTERM)
        self.assertEqual(self.sessiond.wait(TIMEOUT), 0, "sessiond exits 0 on SIGTERM")
        self.sessiond.stderr.close()

    def request(self, path, form=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.browser.open(self.base + path, data=data, timeout=TIMEOUT) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as e:  # 3xx (redirects not followed), 4xx
            with e:
                return e.code, e.headers, e.read().decode()

    def session_id(self):
        ids = [c.value for c in self.jar if c.name == "example_sid"]
        return ids[0] if ids else None

    def metric(self, series):
        url = f"http://{self.admin_addr}/metrics"
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            self.assertTrue(response.headers["Content-Type"].startswith("text/plain; version=0.0.4"))
            for line in response.read().decode().splitlines():
                name, _, value = line.rpartition(" ")
                if name == series:
                    return float(value)
        return 0.0

    def test_login_then_page_then_logout(self):
        status, _, body = self.request("/")
        self.assertEqual(status, 200)
        self.assertIn("is_login: false", body)
        self.assertIsNone(self.session_id())

        status, _, body = self.request("/login")
        self.assertEqual(status, 200)
        self.assertIn('name="username"', body)

        status, headers, _ = self.request("/login", {"username": "yuan", "password": "secret"})
        self.assertEqual(status, 303)
        self.assertEqual(headers["Location"], "/")
        self.assertIn("HttpOnly", headers["Set-Cookie"])
        sid = self.session_id()
        self.assertRegex(sid, r"^[a-z0-9]{32}$")

        # sessiond holds what the backend stored, as JSON.
        stored = self.stub.Get(pb.GetRequest(id=sid, no_touch=True))
        self.assertEqual(dict(stored.data), {"is_login": "true", "username": '"yuan"'})

        status, _, body = self.request("/")
        self.assertEqual(status, 200)
        self.assertIn("is_login: true", body)
        self.assertIn("<b>yuan</b>", body)

        status, headers, _ = self.request("/logout", {})
        self.assertEqual(status, 303)
        self.assertIn("Max-Age=0", headers["Set-Cookie"])
        self.assertIsNone(self.session_id())
        with self.assertRaises(grpc.RpcError) as gone:
            self.stub.Get(pb.GetRequest(id=sid))
        self.assertEqual(gone.exception.code(), grpc.StatusCode.NOT_FOUND)

        status, _, body = self.request("/")
        self.assertIn("is_login: false", body)

        flushed = 'sessiond_requests_total{api="grpc",method="Flush",outcome="OK"}'
        self.assertEqual(self.metric(flushed), 1.0)
        self.assertEqual(self.metric("sessiond_sessions_created_total"), 1.0)
        self.assertEqual(self.metric("sessiond_sessions"), 0.0)

    def test_a_call_without_the_token_is_unauthenticated(self):
        with grpc.insecure_channel(self.grpc_addr) as anonymous:
            with self.assertRaises(grpc.RpcError) as refused:
                pb_grpc.SessionServiceStub(anonymous).Create(pb.CreateRequest())
        self.assertEqual(refused.exception.code(), grpc.StatusCode.UNAUTHENTICATED)

    def test_a_cookie_sessiond_never_issued_is_no_session(self):
        self.jar.set_cookie(cookiejar.Cookie(
            0, "example_sid", "forged", None, False, "127.0.0.1", False, False,
            "/", True, False, None, False, None, None, {},
        ))
        status, _, body = self.request("/")
        self.assertEqual(status, 200)
        self.assertIn("is_login: false", body)


if __name__ == "__main__":
    unittest.main()
