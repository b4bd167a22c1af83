"""A Django-style web backend whose sessions live in sessiond, over gRPC.

A login form stores ``is_login`` and ``username`` in the session, the home
page shows them, and logout flushes the session: what Django's
``request.session`` does, with the session kept in sessiond so that every
backend process (in any language) shares it.

Only the standard library's ``http.server`` and ``grpcio``. The gRPC stubs
are generated from ``proto/`` (see this folder's README) and must be
importable as ``sessiond.v1``.

Settings (environment):
    SESSION_GRPC_TARGET  where sessiond's gRPC API is (default 127.0.0.1:50051)
    LISTEN               host:port to serve on (default 127.0.0.1:8000;
                         port 0 picks a free one)
    SESSION_GRPC_TOKEN_FILE  a file holding this backend's bearer token for
                         sessiond (one of its --tokens-file lines hashes it);
                         unset: no token, for a sessiond without access control
"""

import html
import json
import os
import sys
import urllib.parse
from http import cookies
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc

from sessiond.v1 import sessiond_pb2 as pb
from sessiond.v1 import sessiond_pb2_grpc as pb_grpc

# The backend's own cookie carries the session id; sessiond never sees it.
COOKIE = "example_sid"


class Session:
    """A dict-like session loaded from and saved to sessiond, as Django's
    ``request.session``: values are JSON, writes are per key."""

    def __init__(self, stub, session_id):
        self._stub = stub
        self.id = None
        self._data = {}
        self._changed = {}
        if session_id:
            try:
                reply = stub.Get(pb.GetRequest(id=session_id))
            except grpc.RpcError as e:
                # NOT_FOUND: unknown or expired. INVALID_ARGUMENT: a cookie
                # sessiond never issued. Either way: no session.
                if e.code() not in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                    raise
            else:
                self.id = reply.session.id
                self._data = {k: json.loads(v) for k, v in reply.data.items()}

    def get(self, key, default=None):
        return self._data.get(key, default)

    def __setitem__(self, key, value):
        self._data[key] = value
        self._changed[key] = json.dumps(value)

    def cycle_key(self):
        """A new id for the same data (Django's ``cycle_key``), against
        session fixation: call it on login."""
        if self.id:
            self.id = self._stub.Rotate(pb.RotateRequest(id=self.id)).session.id

    def save(self):
        """Creates the session on first write, else sends only what changed."""
        if not self._changed:
            return
        if self.id is None:
            self.id = self._stub.Create(pb.CreateRequest(data=self._changed)).session.id
        else:
            self._stub.Set(pb.SetRequest(id=self.id, upsert=self._changed))
        self._changed = {}

    def flush(self):
        """Deletes the session (logout)."""
        if self.id:
            self._stub.Flush(pb.FlushRequest(id=self.id))
        self.id = None
        self._data = {}
        self._changed = {}


PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title></head>
<body>{body}</body></html>
"""


class Handler(BaseHTTPRequestHandler):
    stub = None  # set by serve()

    def _session(self):
        jar = cookies.SimpleCookie(self.headers.get("Cookie", ""))
        morsel = jar.get(COOKIE)
        return Session(self.stub, morsel.value if morsel else None)

    def _send(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if body:
            self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _page(self, title, body):
        self._send(200, PAGE.format(title=title, body=body).encode())

    def _redirect(self, location, session=None):
        headers = [("Location", location)]
        if session is not None:
            headers.append(("Set-Cookie", cookie_header(session.id)))
        self._send(303, headers=headers)

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/":
            session = self._session()
            if session.get("is_login"):
                name = html.escape(session.get("username", ""))
                self._page(
                    "Home",
                    f"<p>is_login: true</p><p>username: <b>{name}</b></p>"
                    '<form method="post" action="/logout"><button>Log out</button></form>',
                )
            else:
                self._page("Home", '<p>is_login: false</p><p><a href="/login">Log in</a></p>')
        elif path == "/login":
            self._page(
                "Log in",
                '<form method="post" action="/login">'
                '<input name="username" placeholder="username">'
                '<input name="password" type="password" placeholder="password">'
                "<button>Log in</button></form>",
            )
        else:
            self._send(404, b"not found\n")

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        if path == "/login":
            username = form.get("username", [""])[0].strip()
            password = form.get("password", [""])[0]
            # A demo: any non-empty name and password log in.
            if not username or not password:
                self._send(400, b"username and password are required\n")
                return
            session = self._session()
            session.cycle_key()
            session["is_login"] = True
            session["username"] = username
            session.save()
            self._redirect("/", session)
        elif path == "/logout":
            self._session().flush()
            self._send(303, headers=[("Location", "/login"), ("Set-Cookie", cookie_header(None))])
        else:
            self._send(404, b"not found\n")

    def log_message(self, format, *args):
        # Access logs would print the cookie-free path only; keep stderr quiet.
        pass


def cookie_header(session_id):
    """The session cookie, or one that deletes it when ``session_id`` is None."""
    if session_id is None:
        return f"{COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
    return f"{COOKIE}={session_id}; Path=/; HttpOnly; SameSite=Lax"


class BearerToken(grpc.UnaryUnaryClientInterceptor):
    """Sends ``authorization: Bearer <token>`` with every call."""

    def __init__(self, token):
        self._metadata = ("authorization", f"Bearer {token}")

    def intercept_unary_unary(self, continuation, details, request):
        metadata = list(details.metadata or []) + [self._metadata]
        return continuation(details._replace(metadata=metadata), request)


def channel(target, token_file=None):
    """A channel to sessiond, sending the token in ``token_file`` if any."""
    plain = grpc.insecure_channel(target)
    if not token_file:
        return plain
    with open(token_file) as f:
        token = f.read().strip()
    return grpc.intercept_channel(plain, BearerToken(token))


def serve():
    target = os.environ.get("SESSION_GRPC_TARGET", "127.0.0.1:50051")
    host, _, port = os.environ.get("LISTEN", "127.0.0.1:8000").rpartition(":")
    token_file = os.environ.get("SESSION_GRPC_TOKEN_FILE")
    Handler.stub = pb_grpc.SessionServiceStub(channel(target, token_file))
    server = ThreadingHTTPServer((host, int(port)), Handler)
    print(f"listening on http://{host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    sys.exit(serve())
