"""openapi.yaml against a live gateway: the document is valid OpenAPI 3.1,
every documented status of every operation is produced by a real request,
and every response (status, headers, body) matches the description, so the
description cannot drift from the gateway in either direction."""

from __future__ import annotations

import http.client
import json
import re
import socket
import time
from dataclasses import dataclass, field

import grpc
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conftest import ROOT

SPEC = yaml.safe_load((ROOT / "openapi.yaml").read_text())
URI = "urn:sessiond:openapi"
REGISTRY = Registry().with_resource(
    URI, Resource.from_contents(SPEC, default_specification=DRAFT202012)
)
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
# Documented, but not produced here, and why.
EXEMPT: dict[tuple[str, str], str] = {}
JSON = {"Content-Type": "application/json"}
MERGE = {"Content-Type": "application/merge-patch+json"}
# A head over the bounds: more than 100 fields. (One over --max-header-bytes
# gets the same 431, but the gateway closes the connection with the rest of
# the head unread, which resets it before a client always reads the answer.)
HUGE = {f"X-Field-{i}": "1" for i in range(101)}
EVIL = {"Origin": "https://evil.example"}


def test_the_description_is_valid_openapi_3_1():
    assert SPEC["openapi"].startswith("3.1.")
    validate_spec(SPEC)


def test_the_description_has_the_crates_version():
    cargo = (ROOT / "Cargo.toml").read_text()
    version = re.search(r'^version = "([^"]+)"', cargo, re.M)[1]
    assert SPEC["info"]["version"] == version


def test_the_readme_points_at_the_description():
    assert "openapi.yaml" in (ROOT / "README.md").read_text()


def operations() -> dict[str, tuple[str, str]]:
    ops = {}
    for path, item in SPEC["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                ops[op["operationId"]] = (path, method)
    return ops


def escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def lookup(pointer: str):
    node = SPEC
    for part in pointer.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def resolve(pointer: str) -> tuple[str, dict]:
    """Follows `$ref`s from `pointer` to the object they end at."""
    node = lookup(pointer)
    while "$ref" in node:
        pointer = node["$ref"]
        node = lookup(pointer)
    return pointer, node


def conforms(pointer: str, instance) -> None:
    validator = Draft202012Validator(
        {"$ref": URI + pointer},
        registry=REGISTRY,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    errors = [e.message for e in validator.iter_errors(instance)]
    assert not errors, f"{instance!r} does not match {pointer}: {errors}"


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        return json.loads(self.body)

    def cookie(self) -> str:
        """The `name=value` of the cookie this reply set."""
        [value] = self.header("Set-Cookie")
        return value.split(";", 1)[0]


def send(
    server, method: str, path: str, headers: dict | None = None, body: str | bytes | None = None
) -> Reply:
    connection = http.client.HTTPConnection(*server.http, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


def read_reply(sock: socket.socket) -> Reply:
    response = http.client.HTTPResponse(sock)
    response.begin()
    return Reply(response.status, response.getheaders(), response.read())


def head(method: str, path: str, headers: dict, length: int) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@dataclass
class Checker:
    """Checks replies against the description and records what was covered."""

    ops: dict[str, tuple[str, str]] = field(default_factory=operations)
    covered: set[tuple[str, str]] = field(default_factory=set)

    def __call__(
        self, op_id: str, path: str, reply: Reply, status: int, error: str | None = None
    ) -> Reply:
        template, method = self.ops[op_id]
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        assert re.match(pattern, path), f"{path} is not {template}"
        assert reply.status == status, (
            f"{op_id} {path}: {reply.status} {reply.body[:300]!r}, wanted {status}"
        )
        responses = SPEC["paths"][template][method]["responses"]
        assert str(status) in responses, f"{op_id}: {status} is not documented"
        pointer = "#/" + "/".join(
            escape(p) for p in ["paths", template, method, "responses", str(status)]
        )
        self.matches(pointer, reply, f"{op_id} {status}", error)
        self.covered.add((op_id, str(status)))
        return reply

    def component(self, name: str, reply: Reply, error: str | None = None) -> None:
        self.matches(f"#/components/responses/{name}", reply, name, error)

    def matches(self, pointer: str, reply: Reply, what: str, error: str | None) -> None:
        pointer, response = resolve(pointer)
        documented = {name.lower() for name in response.get("headers", {})}
        for name in response.get("headers", {}):
            header_pointer, header = resolve(f"{pointer}/headers/{escape(name)}")
            values = reply.header(name)
            if header.get("required"):
                assert values, f"{what}: no {name} header"
            assert len(values) <= 1, f"{what}: {len(values)} {name} headers"
            for value in values:
                conforms(f"{header_pointer}/schema", value)
        for name, _ in reply.headers:
            lower = name.lower()
            if lower in {"set-cookie", "etag", "allow"} or lower.startswith("x-session-"):
                assert lower in documented, f"{what}: undocumented {name} header"
        content = response.get("content", {})
        if not content:
            assert reply.body == b"", f"{what}: undocumented body {reply.body[:200]!r}"
            return
        assert reply.body, f"{what}: no body"
        [media_type] = reply.header("Content-Type")
        media_type = media_type.split(";")[0].strip()
        assert media_type in content, f"{what}: undocumented content type {media_type}"
        body = reply.json()
        conforms(f"{pointer}/content/{escape(media_type)}/schema", body)
        if error is not None:
            assert body["error"] == error, f"{what}: {body}"


def new_session(server, data: str = '{"username": "yuan"}') -> str:
    reply = send(server, "POST", "/session", JSON, data)
    assert reply.status == 201, reply
    return reply.cookie()


def slow_body(server, method: str, path: str, headers: dict) -> Reply:
    """A body that stops arriving: 408 after --http-read-timeout."""
    with socket.create_connection(server.http, timeout=10) as sock:
        sock.sendall(head(method, path, {**JSON, **headers}, 10) + b"{")
        return read_reply(sock)


def exercise_sessions(server, check: Checker) -> None:
    # createSession
    created = check(
        "createSession",
        "/session",
        send(server, "POST", "/session", JSON, '{"username": "yuan"}'),
        201,
    )
    assert created.json()["data"] == {"username": "yuan"}
    check(
        "createSession",
        "/session",
        send(server, "POST", "/session", JSON, "[1]"),
        400,
        "invalid_body",
    )
    check(
        "createSession",
        "/session",
        send(server, "POST", "/session", {**JSON, **EVIL}, "{}"),
        403,
        "forbidden_origin",
    )
    check(
        "createSession",
        "/session",
        slow_body(server, "POST", "/session", {}),
        408,
        "request_timeout",
    )
    big = json.dumps({"a": "x" * 5000})
    check(
        "createSession",
        "/session",
        send(server, "POST", "/session", JSON, big),
        413,
        "body_too_large",
    )
    large_value = json.dumps({"a": "x" * 2000})
    check(
        "createSession",
        "/session",
        send(server, "POST", "/session", JSON, large_value),
        413,
        "too_large",
    )
    check(
        "createSession",
        "/session",
        send(server, "POST", "/session", {"Content-Type": "text/plain"}, "{}"),
        415,
        "unsupported_media_type",
    )
    check(
        "createSession", "/session", send(server, "POST", "/session", {**JSON, **HUGE}, "{}"), 431
    )

    # getSession
    cookie = created.cookie()
    read = check("getSession", "/session", send(server, "GET", "/session", {"Cookie": cookie}), 200)
    assert read.json()["data"] == {"username": "yuan"}
    assert read.header("ETag") == [f'"{read.json()["version"]}"']
    check("getSession", "/session", send(server, "GET", "/session"), 404, "session_not_found")
    stale = check(
        "getSession",
        "/session",
        send(server, "GET", "/session", {"Cookie": "sessionid=" + "0" * 32}),
        404,
        "session_not_found",
    )
    assert stale.header("Set-Cookie"), "an unknown cookie is expired"
    check("getSession", "/session", send(server, "GET", "/session", HUGE), 431)

    # patchSession
    patched = check(
        "patchSession",
        "/session",
        send(server, "PATCH", "/session", {**MERGE, "Cookie": cookie}, '{"cart": {"items": [1]}}'),
        200,
    )
    assert patched.json()["data"] == {"username": "yuan", "cart": {"items": [1]}}
    fresh = check(
        "patchSession",
        "/session",
        send(server, "PATCH", "/session", MERGE, '{"is_login": true}'),
        201,
    )
    assert fresh.json()["data"] == {"is_login": True}
    check(
        "patchSession",
        "/session",
        send(server, "PATCH", "/session", {**MERGE, "Cookie": cookie}, "[1]"),
        400,
        "invalid_body",
    )
    check(
        "patchSession",
        "/session",
        send(server, "PATCH", "/session", {**MERGE, "Cookie": cookie, "If-Match": '"\xff"'}, "{}"),
        400,
        "invalid_header",
    )
    check(
        "patchSession",
        "/session",
        send(server, "PATCH", "/session", {**MERGE, **EVIL}, "{}"),
        403,
        "forbidden_origin",
    )
    check(
        "patchSession",
        "/session",
        slow_body(server, "PATCH", "/session", {"Cookie": cookie}),
        408,
        "request_timeout",
    )
    check(
        "patchSession",
        "/session",
        send(
            server,
            "PATCH",
            "/session",
            {**MERGE, "Cookie": cookie, "If-Match": '"999"'},
            '{"a": 1}',
        ),
        412,
        "precondition_failed",
    )
    check(
        "patchSession",
        "/session",
        send(server, "PATCH", "/session", {**MERGE, "Cookie": cookie}, big),
        413,
        "body_too_large",
    )
    check(
        "patchSession",
        "/session",
        send(server, "PATCH", "/session", {**MERGE, "Cookie": cookie}, large_value),
        413,
        "too_large",
    )
    check(
        "patchSession",
        "/session",
        send(server, "PATCH", "/session", {"Content-Type": "text/plain"}, "{}"),
        415,
        "unsupported_media_type",
    )
    check(
        "patchSession", "/session", send(server, "PATCH", "/session", {**MERGE, **HUGE}, "{}"), 431
    )

    # rotateSession: the old id is dead at once.
    rotated = check(
        "rotateSession",
        "/session/rotate",
        send(server, "POST", "/session/rotate", {**JSON, "Cookie": cookie}),
        204,
    )
    assert rotated.cookie() != cookie
    check(
        "getSession",
        "/session",
        send(server, "GET", "/session", {"Cookie": cookie}),
        404,
        "session_not_found",
    )
    cookie = rotated.cookie()
    check(
        "rotateSession",
        "/session/rotate",
        send(server, "POST", "/session/rotate", JSON),
        404,
        "session_not_found",
    )
    check(
        "rotateSession",
        "/session/rotate",
        send(server, "POST", "/session/rotate", {**JSON, **EVIL, "Cookie": cookie}),
        403,
        "forbidden_origin",
    )
    check(
        "rotateSession",
        "/session/rotate",
        send(server, "POST", "/session/rotate", {"Cookie": cookie}),
        415,
        "unsupported_media_type",
    )
    check(
        "rotateSession",
        "/session/rotate",
        send(server, "POST", "/session/rotate", {**JSON, **HUGE}),
        431,
    )

    # flushSession
    check(
        "flushSession",
        "/session",
        send(server, "DELETE", "/session", {**JSON, **EVIL, "Cookie": cookie}),
        403,
        "forbidden_origin",
    )
    check(
        "flushSession",
        "/session",
        send(server, "DELETE", "/session", {"Cookie": cookie}),
        415,
        "unsupported_media_type",
    )
    check("flushSession", "/session", send(server, "DELETE", "/session", {**JSON, **HUGE}), 431)
    check(
        "flushSession",
        "/session",
        send(server, "DELETE", "/session", {**JSON, "Cookie": cookie}),
        204,
    )
    check(
        "getSession",
        "/session",
        send(server, "GET", "/session", {"Cookie": cookie}),
        404,
        "session_not_found",
    )


def exercise_keys(server, check: Checker) -> None:
    cookie = new_session(server)
    key = "/session/keys/username"
    value = check("getKey", key, send(server, "GET", key, {"Cookie": cookie}), 200)
    assert value.json() == "yuan"
    check(
        "getKey",
        "/session/keys/%FF",
        send(server, "GET", "/session/keys/%FF", {"Cookie": cookie}),
        400,
        "invalid_key",
    )
    check("getKey", key, send(server, "GET", key), 404, "session_not_found")
    check(
        "getKey",
        "/session/keys/nope",
        send(server, "GET", "/session/keys/nope", {"Cookie": cookie}),
        404,
        "key_not_found",
    )
    check("getKey", key, send(server, "GET", key, HUGE), 431)

    cart = "/session/keys/cart"
    put = check(
        "putKey",
        cart,
        send(server, "PUT", cart, {**JSON, "Cookie": cookie}, '{"items": [42]}'),
        204,
    )
    assert send(server, "GET", cart, {"Cookie": cookie}).json() == {"items": [42]}
    version = put.header("ETag")[0]
    check(
        "putKey",
        "/session/keys/%FF",
        send(server, "PUT", "/session/keys/%FF", {**JSON, "Cookie": cookie}, "1"),
        400,
        "invalid_key",
    )
    check(
        "putKey",
        cart,
        send(server, "PUT", cart, {**JSON, "Cookie": cookie}, "nope"),
        400,
        "invalid_json",
    )
    check(
        "putKey",
        cart,
        send(server, "PUT", cart, {**JSON, **EVIL, "Cookie": cookie}, "1"),
        403,
        "forbidden_origin",
    )
    check("putKey", cart, send(server, "PUT", cart, JSON, "1"), 404, "session_not_found")
    check(
        "putKey", cart, slow_body(server, "PUT", cart, {"Cookie": cookie}), 408, "request_timeout"
    )
    check(
        "putKey",
        cart,
        send(server, "PUT", cart, {**JSON, "Cookie": cookie, "If-Match": '"999"'}, "1"),
        412,
        "precondition_failed",
    )
    check(
        "putKey",
        cart,
        send(server, "PUT", cart, {**JSON, "Cookie": cookie}, json.dumps("x" * 2000)),
        413,
        "too_large",
    )
    check(
        "putKey",
        cart,
        send(server, "PUT", cart, {**JSON, "Cookie": cookie}, json.dumps("x" * 5000)),
        413,
        "body_too_large",
    )
    check(
        "putKey",
        cart,
        send(server, "PUT", cart, {"Content-Type": "text/plain", "Cookie": cookie}, "1"),
        415,
        "unsupported_media_type",
    )
    check("putKey", cart, send(server, "PUT", cart, {**JSON, **HUGE}, "1"), 431)

    check(
        "deleteKey",
        "/session/keys/%FF",
        send(server, "DELETE", "/session/keys/%FF", {**JSON, "Cookie": cookie}),
        400,
        "invalid_key",
    )
    check(
        "deleteKey",
        cart,
        send(server, "DELETE", cart, {**JSON, **EVIL, "Cookie": cookie}),
        403,
        "forbidden_origin",
    )
    check("deleteKey", cart, send(server, "DELETE", cart, JSON), 404, "session_not_found")
    check(
        "deleteKey",
        cart,
        send(server, "DELETE", cart, {**JSON, "Cookie": cookie, "If-Match": '"999"'}),
        412,
        "precondition_failed",
    )
    check(
        "deleteKey",
        cart,
        send(server, "DELETE", cart, {"Cookie": cookie}),
        415,
        "unsupported_media_type",
    )
    check("deleteKey", cart, send(server, "DELETE", cart, {**JSON, **HUGE}), 431)
    check(
        "deleteKey",
        cart,
        send(server, "DELETE", cart, {**JSON, "Cookie": cookie, "If-Match": version}),
        204,
    )
    check("getKey", cart, send(server, "GET", cart, {"Cookie": cookie}), 404, "key_not_found")


def _field(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field (lengths here are under 128)."""
    assert len(payload) < 128
    return bytes([number << 3 | 2, len(payload)]) + payload


def bound_session(server, user_id: str) -> str:
    """A session bound to `user_id`, as a backend makes one over gRPC
    (`Create` with `user`: field 10, a `UserBinding` whose field 1 is the
    user id); returns its cookie. Hand-encoded: the venv has grpcio, not
    the generated stubs."""
    request = _field(10, _field(1, user_id.encode()))
    with grpc.insecure_channel(server.grpc) as channel:
        create = channel.unary_unary("/sessiond.v1.SessionService/Create")
        reply = create(request, timeout=10)
    # CreateResponse.session (1) -> SessionInfo.id (1).
    assert reply[0] == 0x0A and reply[2] == 0x0A, reply
    return "sessionid=" + reply[4 : 4 + reply[3]].decode()


def exercise_users(server, check: Checker) -> None:
    here = bound_session(server, "alice")
    phone = bound_session(server, "alice")
    other = bound_session(server, "alice")
    listed = check(
        "listUserSessions", "/sessions", send(server, "GET", "/sessions", {"Cookie": here}), 200
    )
    sessions = listed.json()["sessions"]
    assert len(sessions) == 3
    assert sum(s["current"] for s in sessions) == 1
    handles = [s["handle"] for s in sessions if not s["current"]]
    for cookie in (here, phone, other):
        assert cookie.split("=")[1] not in listed.body.decode(), "a listing shows no id"
    check(
        "listUserSessions",
        "/sessions",
        send(server, "GET", "/sessions"),
        404,
        "session_not_found",
    )
    check(
        "listUserSessions",
        "/sessions",
        send(server, "GET", "/sessions", {"Cookie": "sessionid=" + handles[0]}),
        404,
        "session_not_found",
    )
    check("listUserSessions", "/sessions", send(server, "GET", "/sessions", HUGE), 431)

    one = f"/sessions/{handles[0]}"
    check(
        "revokeUserSession",
        one,
        send(server, "DELETE", one, {**JSON, "Cookie": here}),
        204,
    )
    check(
        "revokeUserSession",
        one,
        send(server, "DELETE", one, {**JSON, "Cookie": here}),
        404,
        "handle_not_found",
    )
    check("revokeUserSession", one, send(server, "DELETE", one, JSON), 404, "session_not_found")
    check(
        "revokeUserSession",
        "/sessions/nope",
        send(server, "DELETE", "/sessions/nope", {**JSON, "Cookie": here}),
        400,
        "invalid_argument",
    )
    check(
        "revokeUserSession",
        one,
        send(server, "DELETE", one, {**JSON, **EVIL, "Cookie": here}),
        403,
        "forbidden_origin",
    )
    check(
        "revokeUserSession",
        one,
        send(server, "DELETE", one, {"Cookie": here}),
        415,
        "unsupported_media_type",
    )
    check("revokeUserSession", one, send(server, "DELETE", one, {**JSON, **HUGE}), 431)

    others = "/sessions/revoke-others"
    ended = check(
        "revokeOtherSessions",
        others,
        send(server, "POST", others, {**JSON, "Cookie": here}),
        200,
    )
    assert ended.json() == {"revoked": 1}
    check(
        "revokeOtherSessions", others, send(server, "POST", others, JSON), 404, "session_not_found"
    )
    check(
        "revokeOtherSessions",
        others,
        send(server, "POST", others, {**JSON, **EVIL, "Cookie": here}),
        403,
        "forbidden_origin",
    )
    check(
        "revokeOtherSessions",
        others,
        send(server, "POST", others, {"Cookie": here}),
        415,
        "unsupported_media_type",
    )
    check("revokeOtherSessions", others, send(server, "POST", others, {**JSON, **HUGE}), 431)


def exercise_auth_and_edges(server, check: Checker) -> None:
    check("forwardAuth", "/auth", send(server, "GET", "/auth"), 401, "unauthorized")
    anonymous = new_session(server, '{"username": "guest"}')
    check(
        "forwardAuth",
        "/auth",
        send(server, "GET", "/auth", {"Cookie": anonymous}),
        401,
        "unauthorized",
    )
    login = new_session(server, '{"username": "yuan", "is_login": true}')
    passed = check("forwardAuth", "/auth", send(server, "GET", "/auth", {"Cookie": login}), 200)
    assert passed.header("X-Session-Username") == ["yuan"]
    check("forwardAuth", "/auth", send(server, "GET", "/auth", HUGE), 431)

    for op_id, path in [
        ("sessionPreflight", "/session"),
        ("rotatePreflight", "/session/rotate"),
        ("keyPreflight", "/session/keys/a"),
    ]:
        reply = check(op_id, path, send(server, "OPTIONS", path), 405, "method_not_allowed")
        template = check.ops[op_id][0]
        documented = {m.upper() for m in SPEC["paths"][template] if m in METHODS} - {"OPTIONS"}
        [allow] = reply.header("Allow")
        assert set(allow.split(", ")) == documented, (
            f"{path}: Allow {allow}, documented {documented}"
        )

    for path in ["/nope", "/session/keys/a/b", "/session/"]:
        reply = send(server, "GET", path)
        assert reply.status == 404
        check.component("RouteNotFound", reply, "not_found")


def exercise_full_store_and_shutdown(server, check: Checker) -> None:
    """On a server with --max-sessions 1: 429; then SIGTERM, and every
    operation started on a connection before the listeners closed gets 503."""
    check("createSession", "/session", send(server, "POST", "/session", JSON, "{}"), 201)
    check(
        "createSession",
        "/session",
        send(server, "POST", "/session", JSON, "{}"),
        429,
        "too_many_sessions",
    )
    check(
        "patchSession",
        "/session",
        send(server, "PATCH", "/session", MERGE, '{"a": 1}'),
        429,
        "too_many_sessions",
    )

    requests = [
        (
            op_id,
            path,
            method.upper(),
            "1" if method == "put" else ("{}" if method in {"post", "patch"} else ""),
        )
        for op_id, (template, method) in check.ops.items()
        if method != "options"
        for path in [template.replace("{key}", "a").replace("{handle}", "0" * 32)]
    ]
    sockets = []
    for request in requests:
        sock = socket.create_connection(server.http, timeout=10)
        # More than the 24 bytes that tell HTTP/1.1 from HTTP/2, less than a
        # head: the request is under way when the drain begins.
        sock.sendall(f"{request[2]} {request[1]} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode())
        sockets.append(sock)
    server.terminate()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(server.http, timeout=1).close()
        except OSError:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the gateway never closed its listener")
    for (op_id, path, method, body), sock in zip(requests, sockets, strict=True):
        with sock:
            rest = head(method, path, JSON, len(body)).split(b"\r\n", 2)[2] + body.encode()
            sock.sendall(rest)
            check(op_id, path, read_reply(sock), 503, "unavailable")
    assert server.wait(30) == 0


def test_every_documented_route_and_status_against_a_live_gateway(start):
    check = Checker()
    gateway = start(
        "--auth-headers",
        "username",
        "--auth-require",
        "is_login",
        "--http-read-timeout",
        "1s",
        "--max-value-bytes",
        "1024",
        "--max-body-bytes",
        "4096",
        "--allowed-origins",
        "https://shop.example",
    )
    exercise_sessions(gateway, check)
    exercise_keys(gateway, check)
    exercise_users(gateway, check)
    exercise_auth_and_edges(gateway, check)
    # An allowed origin passes the CSRF check.
    check(
        "createSession",
        "/session",
        send(gateway, "POST", "/session", {**JSON, "Origin": "https://shop.example"}, "{}"),
        201,
    )
    full = start("--max-sessions", "1", "--drain-delay", "2s", "--http-read-timeout", "10s")
    exercise_full_store_and_shutdown(full, check)

    documented = {
        (op["operationId"], status)
        for item in SPEC["paths"].values()
        for method, op in item.items()
        if method in METHODS
        for status in op["responses"]
    }
    assert set(EXEMPT) <= documented, "an exemption for a status no longer documented"
    missing = documented - check.covered - set(EXEMPT)
    assert not missing, f"documented but never produced: {sorted(missing)}"
    covered = len(check.covered)
    print(
        f"{len(check.ops)} operations, {covered} of {len(documented)} documented statuses produced"
    )
