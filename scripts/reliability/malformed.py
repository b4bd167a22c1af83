"""Malformed traffic against a running sessiond: mutated HTTP/1.1 and HTTP/2
requests to the gateway, and to the gRPC port bad protobuf, wrong message
lengths, wrong content types, oversized metadata, garbage frames and abrupt
resets. Afterwards the process must be alive, no 5xx must have been
answered, health must be SERVING, memory must be back to its baseline and a
normal session must still work. Run by ``scripts/malformed-traffic.sh``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import socket
import struct
import sys
import time
import urllib.parse
from collections import Counter, defaultdict

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
import sessiond
from server import Sessiond

TIMEOUT = 5.0
GRPC_METHODS = [
    "/sessiond.v1.SessionService/Create",
    "/sessiond.v1.SessionService/Get",
    "/sessiond.v1.SessionService/Set",
    "/sessiond.v1.SessionService/Flush",
    "/sessiond.v1.SessionService/Rotate",
    "/sessiond.v1.SessionService/Touch",
    "/grpc.health.v1.Health/Check",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/sessiond.v1.SessionService/Nope",
    "/nope.Nope/Nope",
]


# ---------------------------------------------------------------- mutations


class Mutator:
    """Requests that start plausible and are then broken in one or more ways."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.live_ids: list[str] = []

    def choice(self, xs):  # noqa: ANN001, ANN201
        return self.rng.choice(xs)

    def flip(self, data: bytes, n: int | None = None) -> bytes:
        """Byte-level damage: flips, inserts, deletes, truncation, repeats."""
        b = bytearray(data)
        for _ in range(n or self.rng.randint(1, 4)):
            op = self.rng.randrange(6)
            pos = self.rng.randrange(len(b) + 1)
            if op == 0 and b:
                b[pos % len(b)] ^= 1 << self.rng.randrange(8)
            elif op == 1:
                b[pos:pos] = bytes([self.rng.randrange(256)])
            elif op == 2 and b:
                del b[pos % len(b)]
            elif op == 3:
                del b[pos:]
            elif op == 4 and b:
                start = pos % len(b)
                b[start:start] = b[start : start + self.rng.randint(1, 16)] * self.rng.randint(
                    2, 50
                )
            else:
                b[pos:pos] = self.choice(
                    [b"\x00", b"\xff\xfe", b"\xed\xa0\x80", b'"', b"{", b"]", b"\\u", b"1e999999"]
                )
        return bytes(b)

    def json_body(self) -> bytes:
        r = self.rng.random()
        key = self.choice(["username", "cart", "", "k" * 300, "é", "a/b", "\u0000", "x" * 256])
        value = self.choice(
            [
                '"yuan"',
                "1",
                "null",
                "true",
                '{"a":[1,2,{"b":null}]}',
                "1e400",
                "-0",
                '"' + "x" * self.rng.choice([10, 70_000]) + '"',
                "[" * 200 + "]" * 200,
                "[" * 5000,
                '"\\ud800"',
            ]
        )
        doc = "{" + json.dumps(key) + ":" + value + "}"
        if r < 0.15:
            doc = "{" + ",".join(f'"k{i}":{i}' for i in range(self.rng.choice([10, 1100]))) + "}"
        elif r < 0.25:
            doc = self.choice(["[]", "null", "1", '"s"', "", "{}", '{"a":1,"a":2}', "{" * 100_000])
        raw = doc.encode("utf-8", "surrogatepass")
        return self.flip(raw) if self.rng.random() < 0.6 else raw

    def cookie(self) -> str | None:
        r = self.rng.random()
        real = self.choice(self.live_ids) if self.live_ids else "a" * 32
        if r < 0.15:
            return None
        options = [
            f"sessionid={real}",
            f"sessionid={real}; sessionid={'b' * 32}",
            f'sessionid="{real}"',
            "sessionid=" + "".join(self.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(32)),
            "sessionid=" + "A" * 32,
            "sessionid=",
            "sessionid",
            "=" * 50,
            ";" * 200,
            "a=b; " * 300 + f"sessionid={real}",
            "sessionid=" + "x" * 5000,
            f"sessionid={real[:31]}",
            f"sessionid={real}\x7f",
            f"sessionid={real}%00",
            "sessionid=\u00e9\u00e9",
        ]
        c = self.choice(options)
        return self.flip(c.encode(), 1).decode("latin-1") if self.rng.random() < 0.2 else c

    def path(self) -> str:
        p = self.choice(
            [
                "/session",
                "/session",
                "/session/rotate",
                "/auth",
                "/session/keys/username",
                "/session/keys/",
                "/session/keys/%zz",
                "/session/keys/%00",
                "/session/keys/%ff%fe",
                "/session/keys/a/b",
                "/session/keys/" + "k" * 400,
                "/session/keys/%C3%A9",
                "//session",
                "/session?x=1&sessionid=" + "a" * 32,
                "/session/",
                "/Session",
                "/",
                "*",
                "/" + "a" * 9000,
                "/session/keys/" + "%41" * 300,
            ]
        )
        return self.flip(p.encode(), 1).decode("latin-1") if self.rng.random() < 0.1 else p

    def headers(self, body: bytes | None) -> list[tuple[str, str]]:
        hs: list[tuple[str, str]] = []
        cookie = self.cookie()
        if cookie is not None:
            hs.append(("cookie", cookie))
        ct = self.choice(
            [
                "application/json",
                "application/json",
                "application/json; charset=utf-8",
                "application/merge-patch+json",
                "text/plain",
                "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=x",
                "application/jsonx",
                "application/json;;;;",
                "",
                None,
            ]
        )
        if ct is not None:
            hs.append(("content-type", ct))
        if self.rng.random() < 0.3:
            hs.append(
                (
                    "origin",
                    self.choice(
                        ["http://evil.example", "null", "http://127.0.0.1", "https://", "\x01"]
                    ),
                )
            )
        if self.rng.random() < 0.2:
            hs.append(
                (
                    "if-match",
                    self.choice(['"1"', 'W/"1"', "*", '"99999999999999999999999"', '"-1"', "x"]),
                )
            )
        if self.rng.random() < 0.05:
            hs.extend((f"x-junk-{i}", "v" * 100) for i in range(self.rng.choice([10, 400])))
        return hs

    def method(self) -> str:
        return self.choice(
            ["GET", "POST", "PATCH", "PUT", "DELETE", "GET", "PATCH", "OPTIONS", "HEAD", "BREW", "get"]
        )

    def grpc_message(self) -> bytes:
        """A protobuf-ish payload: random bytes, or a valid-looking one damaged."""
        r = self.rng.random()
        if r < 0.3:
            return bytes(self.rng.randrange(256) for _ in range(self.rng.randint(0, 200)))
        sid = (self.choice(self.live_ids) if self.live_ids else "a" * 32).encode()
        fields = [
            b"\x0a" + bytes([len(sid)]) + sid,  # id
            b"\x12\x0b\x0a\x01k\x12\x06\"yuan\"",  # a map entry
            b"\x12\x07\x0a\x01k\x12\x02{x",  # a map entry with bad JSON
            b"\x1a\x01k",  # a key
            b"\x18\x01",  # no_touch / a varint
            b"\x22\x02\x08\xff",  # a message with a huge varint
            b"\x0a\xff\xff\xff\xff\x0f",  # a length far beyond the message
            b"\x08" + b"\xff" * 11,  # a varint too long
            b"\x0f",  # field 1, wire type 7 (does not exist)
        ]
        msg = b"".join(self.choice(fields) for _ in range(self.rng.randint(1, 5)))
        return self.flip(msg) if r < 0.7 else msg


# ---------------------------------------------------------------- HTTP/1.1


class H1:
    """A keep-alive HTTP/1.1 connection with just enough of a response parser."""

    def __init__(self, addr: tuple[str, int]):
        self.addr = addr
        self.sock: socket.socket | None = None
        self.buf = b""

    def _connect(self) -> socket.socket:
        if self.sock is None:
            self.sock = socket.create_connection(self.addr, timeout=TIMEOUT)
            self.buf = b""
        return self.sock

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None

    def _fill(self) -> bool:
        assert self.sock is not None
        chunk = self.sock.recv(65536)
        self.buf += chunk
        return bool(chunk)

    def request(self, raw: bytes, head: bool) -> str:
        """Sends one request; the outcome ("HTTP 404", "closed", ...)."""
        try:
            sock = self._connect()
            sock.sendall(raw)
            while b"\r\n\r\n" not in self.buf:
                if not self._fill():
                    self.close()
                    return "closed without an answer"
            header, self.buf = self.buf.split(b"\r\n\r\n", 1)
            lines = header.split(b"\r\n")
            status = int(lines[0].split()[1])
            fields = {}
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                fields[name.strip().lower()] = value.strip().lower()
            length = 0 if head or status in (204, 304) else int(fields.get(b"content-length", 0))
            if fields.get(b"transfer-encoding") == b"chunked" and not head:
                while True:
                    while b"\r\n" not in self.buf:
                        if not self._fill():
                            raise ConnectionError
                    size_line, rest = self.buf.split(b"\r\n", 1)
                    size = int(size_line, 16)
                    while len(rest) < size + 2:
                        if not self._fill():
                            raise ConnectionError
                        rest = self.buf.split(b"\r\n", 1)[1]
                    self.buf = rest[size + 2 :]
                    if size == 0:
                        break
            else:
                while len(self.buf) < length:
                    if not self._fill():
                        raise ConnectionError
                self.buf = self.buf[length:]
            if fields.get(b"connection") == b"close":
                self.close()
            return f"HTTP {status}"
        except TimeoutError:
            self.close()
            return "timeout"
        except (ConnectionError, OSError, ValueError, IndexError):
            self.close()
            return "closed without an answer"


def h1_request(m: Mutator, host: str) -> tuple[bytes, bool]:
    method = m.method()
    body = m.json_body() if method in ("POST", "PATCH", "PUT", "BREW") or m.rng.random() < 0.05 else None
    lines = [f"{method} {m.path()} HTTP/1.1", f"host: {host}"]
    lines += [f"{k}: {v}" for k, v in m.headers(body)]
    if body is not None:
        lines.append(f"content-length: {len(body)}")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
    return raw, method == "HEAD"


def h1_framing(m: Mutator, host: str) -> bytes:
    """Requests whose framing itself is wrong; sent on a fresh connection."""
    body = m.json_body()
    cases = [
        b"GET /session HTTP/1.1\r\nhost: x\r\ncontent-length: -1\r\n\r\n",
        b"POST /session HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 5\r\ncontent-length: 7\r\n\r\n{}",
        b"POST /session HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{}",
        b"POST /session HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 99999999999999999999\r\n\r\n",
        b"PATCH /session HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        b"PATCH /session HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nfffffffffffffffff\r\n",
        b"PATCH /session HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\ncontent-length: 3\r\n\r\n0\r\n\r\n",
        b"PATCH /session HTTP/1.1\r\nhost: x\r\ntransfer-encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        b"GET /session HTTP/1.1\r\nhost x\r\n\r\n",
        b"GET /session HTTP/1.1\r\n x: folded\r\n\r\n",
        b"GET /session HTTP/1.1\r\nhost: x\r\n folded: y\r\n\r\n",
        b"GET /session HTTP/9.9\r\nhost: x\r\n\r\n",
        b"GET /session\r\n\r\n",
        b"GET  /session  HTTP/1.1\r\nhost: x\r\n\r\n",
        b"\x00\x01\x02\x03\r\n\r\n",
        b"GET /session HTTP/1.1\r\nhost: x\r\nx: \x00\r\n\r\n",
        b"GET /session HTTP/1.1\nhost: x\n\n",
        b"GET /session HTTP/1.1\r\nhost: x\r\ncookie: " + b"a" * 40_000 + b"\r\n\r\n",
        b"GET /session HTTP/1.1\r\n" + b"x: y\r\n" * 5000 + b"\r\n",
        b"POST /session HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
        b"GET /session HTTP/1.1\r\nhost: x\r\nupgrade: h2c\r\nconnection: upgrade, http2-settings\r\nhttp2-settings: AAMAAABkAAQAAP__\r\n\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes(m.rng.randrange(256) for _ in range(64)),
        b"GET /session HTTP/1.1\r\nhost: x\r\n\r\n" * 50,
        (
            b"POST /session HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
            + b"GARBAGE AFTER THE BODY\r\n\r\n"
        ),
    ]
    raw = m.choice(cases)
    if m.rng.random() < 0.5:
        raw = m.flip(raw)
    return raw


def raw_exchange(addr: tuple[str, int], data: bytes, reset: bool = False) -> str:
    """Sends ``data`` on a fresh connection, half-closes (or resets) it and
    reads until the server closes; the outcome is the first status seen."""
    try:
        with socket.create_connection(addr, timeout=TIMEOUT) as s:
            s.sendall(data)
            if reset:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return "reset by the client"
            s.shutdown(socket.SHUT_WR)
            got = b""
            while len(got) < 1 << 20:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
    except TimeoutError:
        return "timeout"
    except OSError:
        return "connection reset"
    statuses = re.findall(rb"HTTP/1\.[01] (\d{3})", got)
    if statuses:
        worst = max(int(s) for s in statuses)
        return f"HTTP {worst}"
    if got.startswith(b"\x00\x00") or b"\x07\x00\x00\x00\x00\x00" in got[:64]:
        return "HTTP/2 GOAWAY"
    return "closed without an answer" if not got else "closed (other bytes)"


# ---------------------------------------------------------------- HTTP/2


ERROR_NAMES = {0: "NO_ERROR", 1: "PROTOCOL_ERROR", 2: "INTERNAL_ERROR", 3: "FLOW_CONTROL_ERROR",
               6: "FRAME_SIZE_ERROR", 7: "REFUSED_STREAM", 8: "CANCEL", 9: "COMPRESSION_ERROR",
               11: "ENHANCE_YOUR_CALM", 13: "HTTP_1_1_REQUIRED"}  # fmt: skip


GRPC_CODES = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
              "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
              "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
              "UNAUTHENTICATED"]  # fmt: skip


def grpc_outcome(headers: dict[bytes, bytes]) -> str:
    """"grpc NAME", with the message's first words for INTERNAL (which says
    whose fault it was)."""
    code = int(headers[b"grpc-status"])
    name = GRPC_CODES[code] if code < len(GRPC_CODES) else str(code)
    if name == "INTERNAL":
        words = urllib.parse.unquote(headers.get(b"grpc-message", b"").decode()).split()[:4]
        return f"grpc INTERNAL ({' '.join(words)})"
    return f"grpc {name}"


class H2:
    """An h2c (prior knowledge) connection that sends whatever it is given."""

    def __init__(self, addr: tuple[str, int]):
        self.addr = addr
        self.sock: socket.socket | None = None

    def _connect(self) -> None:
        self.sock = socket.create_connection(self.addr, timeout=TIMEOUT)
        config = h2.config.H2Configuration(
            client_side=True,
            header_encoding=None,
            validate_outbound_headers=False,
            normalize_outbound_headers=False,
            validate_inbound_headers=False,
        )
        self.conn = h2.connection.H2Connection(config=config)
        self.conn.initiate_connection()
        self.conn.update_settings({h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE: 1 << 20})
        self.sock.sendall(self.conn.data_to_send())

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None

    def batch(self, requests: list[tuple[list[tuple[bytes, bytes]], bytes | None, str]]) -> list[str]:
        """Sends requests (headers, body, how to end) as concurrent streams;
        one outcome each: "HTTP 404", "grpc 3", "RST PROTOCOL_ERROR", ..."""
        if self.sock is None:
            self._connect()
        assert self.sock is not None
        outcomes: dict[int, str] = {}
        status: dict[int, str] = {}
        pending: list[int] = []
        try:
            for headers, body, ending in requests:
                sid = self.conn.get_next_available_stream_id()
                pending.append(sid)
                self.conn.send_headers(sid, headers, end_stream=body is None and ending == "end")
                if body is not None:
                    window = self.conn.local_flow_control_window(sid)
                    body = body[: max(0, min(window, 60_000))]
                    frame = self.conn.max_outbound_frame_size
                    for i in range(0, max(len(body), 1), frame):
                        last = i + frame >= len(body)
                        self.conn.send_data(sid, body[i : i + frame], end_stream=last and ending == "end")
                if ending == "reset":
                    self.conn.reset_stream(sid, error_code=8)
                    outcomes[sid] = "reset by the client"
                elif ending == "open":
                    outcomes[sid] = "left open, then the connection dropped"
                self.sock.sendall(self.conn.data_to_send())
            deadline = time.monotonic() + TIMEOUT
            while any(s not in outcomes for s in pending):
                if time.monotonic() > deadline:
                    for s in pending:
                        outcomes.setdefault(s, "timeout")
                    self.close()
                    break
                data = self.sock.recv(65536)
                if not data:
                    for s in pending:
                        outcomes.setdefault(s, "connection closed")
                    self.close()
                    break
                for event in self.conn.receive_data(data):
                    sid = getattr(event, "stream_id", 0)
                    if isinstance(event, h2.events.ResponseReceived):
                        hs = dict(event.headers)
                        status[sid] = f"HTTP {hs.get(b':status', b'?').decode()}"
                        if b"grpc-status" in hs:
                            status[sid] = grpc_outcome(hs)
                    elif isinstance(event, h2.events.TrailersReceived):
                        hs = dict(event.headers)
                        if b"grpc-status" in hs:
                            status[sid] = grpc_outcome(hs)
                    elif isinstance(event, h2.events.DataReceived):
                        self.conn.acknowledge_received_data(event.flow_controlled_length, sid)
                    elif isinstance(event, h2.events.StreamEnded):
                        outcomes.setdefault(sid, status.get(sid, "ended without a status"))
                    elif isinstance(event, h2.events.StreamReset):
                        name = ERROR_NAMES.get(event.error_code, str(event.error_code))
                        outcomes.setdefault(sid, status.get(sid, f"RST {name}"))
                    elif isinstance(event, h2.events.ConnectionTerminated):
                        name = ERROR_NAMES.get(event.error_code, str(event.error_code))
                        for s in pending:
                            outcomes.setdefault(s, status.get(s, f"GOAWAY {name}"))
                self.sock.sendall(self.conn.data_to_send())
                if self.conn.state_machine.state == h2.connection.ConnectionState.CLOSED:
                    self.close()
                    break
        except TimeoutError:
            for s in pending:
                outcomes.setdefault(s, "timeout")
            self.close()
        except (OSError, h2.exceptions.H2Error) as e:
            for s in pending:
                outcomes.setdefault(s, status.get(s, "connection closed under the client" if isinstance(e, BrokenPipeError) else f"connection error ({type(e).__name__})"))
            self.close()
        while len(pending) < len(requests):  # never opened: the connection died first
            pending.append(-len(pending))
            outcomes[pending[-1]] = "not sent (connection gone)"
        return [outcomes.get(s, "connection closed") for s in pending]


def h2_gateway_request(m: Mutator, host: str) -> tuple[list[tuple[bytes, bytes]], bytes | None, str]:
    # (HEAD is left to HTTP/1.1: the h2 library refuses a HEAD answer's
    # content-length without a body)
    method = m.method().replace("HEAD", "GET")
    body = m.json_body() if method in ("POST", "PATCH", "PUT") or m.rng.random() < 0.05 else None
    headers = [
        (b":method", method.encode()),
        (b":scheme", b"http"),
        (b":path", m.path().encode("latin-1")),
        (b":authority", host.encode()),
    ]
    headers += [(k.encode(), v.encode("latin-1")) for k, v in m.headers(body)]
    r = m.rng.random()
    if r < 0.05:
        headers.append((b"connection", b"keep-alive"))  # forbidden in HTTP/2
    elif r < 0.1:
        headers.append((b"Upper-Case", b"x"))  # forbidden in HTTP/2
    elif r < 0.13:
        headers = headers[1:]  # no :method
    elif r < 0.16:
        headers.insert(2, (b":path", b""))
    elif r < 0.2 and body is not None:
        headers.append((b"content-length", str(len(body) + m.rng.choice([-1, 5])).encode()))
    ending = "reset" if m.rng.random() < 0.05 else "end"
    return headers, body, ending


def grpc_request(m: Mutator, host: str, kind: str) -> tuple[list[tuple[bytes, bytes]], bytes | None, str]:
    method = m.choice(GRPC_METHODS)
    headers = [
        (b":method", b"POST"),
        (b":scheme", b"http"),
        (b":path", method.encode()),
        (b":authority", host.encode()),
        (b"content-type", b"application/grpc"),
        (b"te", b"trailers"),
    ]
    msg = m.grpc_message()
    frame = b"\x00" + struct.pack(">I", len(msg)) + msg
    ending = "end"
    if kind == "grpc-bad-length":
        length = m.choice([len(msg) + 1, len(msg) + 1000, max(0, len(msg) - 1), 0, 0xFFFFFFFF, 4 << 20, 5 << 20])
        flag = m.choice([0, 0, 1, 2, 0x80, 0xFF])
        frame = bytes([flag]) + struct.pack(">I", length) + msg
        if m.rng.random() < 0.2:
            frame = frame[: m.rng.randint(0, 4)]  # not even a whole prefix
        if m.rng.random() < 0.2:
            frame = frame * m.rng.randint(2, 5)  # several messages on a unary call
    elif kind == "grpc-content-type":
        ct = m.choice(
            [b"application/json", b"text/plain", b"application/grpc+json", b"application/grpc-web",
             b"application/grpc-web-text", b"application/grpcx", b"", None]  # fmt: skip
        )
        headers = [h for h in headers if h[0] != b"content-type"]
        if ct is not None:
            headers.append((b"content-type", ct))
        if m.rng.random() < 0.3:
            headers = [h for h in headers if h[0] != b"te"]
        if m.rng.random() < 0.2:
            headers[0] = (b":method", m.choice([b"GET", b"PUT", b"DELETE"]))
    elif kind == "grpc-metadata":
        r = m.rng.random()
        if r < 0.3:
            headers.append((b"x-big", b"v" * m.choice([8_000, 16_000, 40_000, 64_000])))
        elif r < 0.5:
            headers += [(f"x-m{i}".encode(), b"v" * 50) for i in range(m.choice([200, 2000]))]
        elif r < 0.7:
            headers.append((b"grpc-timeout", m.choice([b"99999999999H", b"abc", b"-1S", b"1n", b"", b"100000000M"])))
        elif r < 0.8:
            headers.append((b"grpc-encoding", m.choice([b"gzip", b"br", b"zstd", b"\x00"])))
            frame = b"\x01" + frame[1:]
        elif r < 0.9:
            headers.append((b"x-data-bin", m.choice([b"!!!", b"AAA", b"=" * 1000, b"\xff"])))
        else:
            headers.append((b"authorization", m.choice([b"Bearer", b"Bearer " + b"x" * 10_000, b"Basic \xff"])))
    elif kind == "grpc-reset":
        ending = m.choice(["reset", "open"])
        frame = frame[: m.rng.randint(0, len(frame))]
    return headers, frame, ending


def h2_frames(m: Mutator, addr: tuple[str, int]) -> str:
    """Frame-level abuse on a fresh connection: after a valid preface and
    SETTINGS, frames of random type, flags, stream id and length."""
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
    frames = b""
    for _ in range(m.rng.randint(1, 6)):
        kind = m.rng.random()
        if kind < 0.5:
            payload = bytes(m.rng.randrange(256) for _ in range(m.rng.randint(0, 64)))
            ftype = m.rng.randrange(11)
            flags = m.rng.randrange(256)
            stream = m.choice([0, 1, 2, 3, 0x7FFFFFFF, m.rng.randrange(1 << 31)])
            length = len(payload) if m.rng.random() < 0.7 else m.choice([0, 1 << 14 + 1, 0xFFFFFF, len(payload) + 3])
        elif kind < 0.65:  # a headers block that is not HPACK
            ftype, flags, stream, length = 1, 0x5, 1, 0
            payload = bytes(m.rng.randrange(256) for _ in range(m.rng.randint(1, 40)))
            length = len(payload)
        elif kind < 0.75:  # CONTINUATION flood without END_HEADERS
            ftype, flags, stream = 9, 0, 1
            payload = b"\x00" * 16_000
            length = len(payload)
            frames += struct.pack(">I", 5)[1:] + b"\x01\x00" + struct.pack(">I", 1) + b"\x82\x86\x84\x41\x00"
        elif kind < 0.85:  # window update of 0, or one that overflows the window
            ftype, flags, stream = 8, 0, m.choice([0, 1])
            payload = struct.pack(">I", m.choice([0, 0x7FFFFFFF]))
            length = 4
        else:  # a PING / SETTINGS / RST_STREAM storm
            ftype = m.choice([6, 4, 3])
            flags, stream = 0, 0 if ftype != 3 else m.rng.randrange(1, 100, 2)
            payload = b"\x00" * (8 if ftype == 6 else 6 if ftype == 4 else 4)
            length = len(payload)
            frames += (struct.pack(">I", length)[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload) * 500
        frames += struct.pack(">I", length)[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload
    return raw_exchange(addr, preface + frames, reset=m.rng.random() < 0.2)


# ---------------------------------------------------------------- checks


def http_session_works(addr: tuple[str, int], host: str) -> bool:
    """POST, PATCH, GET, DELETE on a fresh connection, as a backend would."""
    c = H1(addr)
    ct = "content-type: application/json\r\n"
    raw = f"POST /session HTTP/1.1\r\nhost: {host}\r\n{ct}content-length: 2\r\n\r\n{{}}".encode()
    try:
        sock = c._connect()
        sock.sendall(raw)
        while b"\r\n\r\n" not in c.buf:
            c._fill()
        cookie = re.search(rb"set-cookie: sessionid=([a-z0-9]{32})", c.buf, re.I)
        if not cookie or b" 201 " not in c.buf.split(b"\r\n")[0]:
            return False
        sid = cookie.group(1).decode()
        c.close()
        body = b'{"username":"yuan"}'
        seq = [
            (f"PATCH /session HTTP/1.1\r\nhost: {host}\r\ncookie: sessionid={sid}\r\n{ct}content-length: {len(body)}\r\n\r\n".encode() + body, "HTTP 200"),
            (f"GET /session/keys/username HTTP/1.1\r\nhost: {host}\r\ncookie: sessionid={sid}\r\n\r\n".encode(), "HTTP 200"),
            (f"DELETE /session HTTP/1.1\r\nhost: {host}\r\ncookie: sessionid={sid}\r\n{ct}content-length: 0\r\n\r\n".encode(), "HTTP 204"),
            (f"GET /session HTTP/1.1\r\nhost: {host}\r\ncookie: sessionid={sid}\r\n\r\n".encode(), "HTTP 404"),
        ]  # fmt: skip
        got = [c.request(req, False) for req, _ in seq]
        if got != [want for _, want in seq]:
            print(f"normal HTTP session: {got}", flush=True)
        return got == [want for _, want in seq]
    finally:
        c.close()


def grpc_session_works(target: str) -> bool:
    with sessiond.Client(target, timeout=10) as client:
        info = client.create({"username": "yuan"})
        client.set(info.id, {"cart": [1, 2]})
        data = client.get(info.id).data
        return data == {"username": "yuan", "cart": [1, 2]} and client.flush(info.id)


def health_serving(addr: tuple[str, int], host: str) -> bool:
    """grpc.health.v1.Health/Check for the whole server answers SERVING."""
    conn = H2(addr)
    headers = [
        (b":method", b"POST"), (b":scheme", b"http"), (b":path", b"/grpc.health.v1.Health/Check"),
        (b":authority", host.encode()), (b"content-type", b"application/grpc"), (b"te", b"trailers"),
    ]  # fmt: skip
    conn._connect()
    assert conn.sock is not None
    sid = conn.conn.get_next_available_stream_id()
    conn.conn.send_headers(sid, headers)
    conn.conn.send_data(sid, b"\x00\x00\x00\x00\x00", end_stream=True)
    conn.sock.sendall(conn.conn.data_to_send())
    body, code = b"", None
    while code is None:
        data = conn.sock.recv(65536)
        if not data:
            break
        for event in conn.conn.receive_data(data):
            if isinstance(event, h2.events.DataReceived):
                body += event.data
            elif isinstance(event, h2.events.TrailersReceived):
                code = dict(event.headers).get(b"grpc-status")
        conn.sock.sendall(conn.conn.data_to_send())
    conn.close()
    return code == b"0" and body == b"\x00\x00\x00\x00\x02\x08\x01"


# How tonic's transport and codec answer a message that is not one: INTERNAL
# with these messages. sessiond's own code never answers INTERNAL.
TONIC_INPUT_ERRORS = ("failed to decode", "protocol error:", "Unexpected EOF", "Missing request message",
                      "Message compressed")  # fmt: skip


def is_grpc_fault(outcome: str) -> bool:
    """An answer that blames the server: UNKNOWN, DATA_LOSS, or an INTERNAL
    that is not tonic's word for a malformed message."""
    if outcome in ("grpc UNKNOWN", "grpc DATA_LOSS"):
        return True
    if outcome.startswith("grpc INTERNAL"):
        return not any(f"({e}" in outcome for e in TONIC_INPUT_ERRORS)
    return False


def live_sessions(server: Sessiond) -> float:
    _, text = server.admin("/metrics")
    m = re.search(r"^sessiond_sessions(?:\{[^}]*\})? (\S+)$", text, re.M)
    return float(m.group(1)) if m else float("nan")


def settle(server: Sessiond, limit: float = 60) -> float:
    """Waits until every session made by the traffic has expired and been
    reclaimed (or `limit` passes); the RSS then."""
    deadline = time.monotonic() + limit
    while live_sessions(server) > 0 and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(2)
    return server.rss_bytes()


# ---------------------------------------------------------------- main


CLASSES = {
    # class: (share of the requests, how many go in one call)
    "h1-mutated": (0.34, 1),
    "h1-framing": (0.06, 1),
    "h1-reset": (0.02, 1),
    "h2-gateway-mutated": (0.16, 10),
    "h2-frames": (0.04, 1),
    "grpc-bad-protobuf": (0.14, 10),
    "grpc-bad-length": (0.08, 10),
    "grpc-content-type": (0.05, 10),
    "grpc-metadata": (0.05, 5),
    "grpc-reset": (0.04, 10),
    "grpc-garbage": (0.02, 1),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    m = Mutator(rng)
    flags = ["--idle-timeout", "3s", "--min-idle-timeout", "1s", "--cookie-secure", "false"]
    server = Sessiond(args.bin, flags)
    http = tuple(server.http_addr.rsplit(":", 1))
    http_addr = (http[0], int(http[1]))
    g = tuple(server.grpc_addr.rsplit(":", 1))
    grpc_addr = (g[0], int(g[1]))
    host = server.http_addr
    print(f"malformed traffic: seed {args.seed}, {args.requests} requests, sessiond pid {server.proc.pid}", flush=True)

    def refresh_live_ids() -> None:
        with sessiond.Client(server.grpc_addr, timeout=10) as c:
            m.live_ids = [c.create({"username": "yuan", "n": i}).id for i in range(5)]

    refresh_live_ids()
    h1, h2c, h2g = H1(http_addr), H2(http_addr), H2(grpc_addr)

    def traffic(count: int, report: bool) -> tuple[dict[str, Counter[str]], Counter[str], int]:
        """Sends `count` requests of the classes' mix; outcomes, seconds by class, sent."""
        outcomes: dict[str, Counter[str]] = defaultdict(Counter)
        spent: Counter[str] = Counter()
        names = list(CLASSES)
        weights = [CLASSES[n][0] for n in names]
        sent = 0
        started = time.monotonic()
        next_refresh = 0
        while sent < count:
            if sent >= next_refresh:
                refresh_live_ids()
                next_refresh = sent + 2000
            kind = rng.choices(names, weights)[0]
            began = time.monotonic()
            batch = CLASSES[kind][1]
            if kind == "h1-mutated":
                got = [h1.request(*h1_request(m, host))]
            elif kind == "h1-framing":
                got = [raw_exchange(http_addr, h1_framing(m, host))]
            elif kind == "h1-reset":
                raw, _ = h1_request(m, host)
                got = [raw_exchange(http_addr, raw[: rng.randint(0, len(raw))], reset=True)]
            elif kind == "h2-gateway-mutated":
                got = h2c.batch([h2_gateway_request(m, host) for _ in range(batch)])
            elif kind == "h2-frames":
                got = [h2_frames(m, rng.choice([http_addr, grpc_addr]))]
            elif kind == "grpc-garbage":
                junk = rng.choice(
                    [
                        bytes(rng.randrange(256) for _ in range(rng.randint(1, 300))),
                        b"GET / HTTP/1.1\r\nhost: x\r\n\r\n",
                        b"POST /sessiond.v1.SessionService/Get HTTP/1.1\r\ncontent-type: application/grpc\r\ncontent-length: 5\r\n\r\n\x00\x00\x00\x00\x00",
                        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
                        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + bytes(32),  # a TLS hello
                    ]
                )
                got = [raw_exchange(grpc_addr, junk, reset=rng.random() < 0.3)]
            else:
                reqs = [grpc_request(m, host, kind) for _ in range(batch)]
                got = h2g.batch(reqs)
                if kind == "grpc-reset":
                    # and drop the whole connection on the floor, mid-call
                    if h2g.sock is not None:
                        h2g.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    h2g.close()
            got = [o for o in got if o != "not sent (connection gone)"]
            outcomes[kind].update(got)
            spent[kind] += time.monotonic() - began
            sent += len(got)
            if report and sent % 10_000 < len(got):
                print(f"  {sent} sent, {time.monotonic() - started:.0f}s, rss {server.rss_bytes() >> 20} MiB", flush=True)
        return outcomes, spent, sent

    # Warm-up: the same mix, 2,000 requests, uncounted (allocator pools,
    # connection buffers, the lazily built parts); once its sessions have
    # expired, the RSS is the baseline.
    traffic(2000, False)
    assert grpc_session_works(server.grpc_addr)
    baseline = settle(server)
    started = time.monotonic()
    outcomes, spent, sent = traffic(args.requests, True)
    elapsed = time.monotonic() - started
    for c in (h1, h2c, h2g):
        c.close()

    alive = server.alive()
    peak = server.rss_bytes() if alive else 0
    five_xx = sum(n for counts in outcomes.values() for o, n in counts.items() if re.match(r"HTTP 5", o))
    # gRPC's "server fault" codes: UNKNOWN, DATA_LOSS, and INTERNAL but for
    # tonic's answer to a message that is not protobuf (see RELIABILITY.md).
    grpc_faults = sum(
        n for counts in outcomes.values() for o, n in counts.items() if is_grpc_fault(o)
    )
    timeouts = sum(counts["timeout"] for counts in outcomes.values())
    ready = alive and server.admin("/readyz")[0] == 200
    serving = alive and health_serving(grpc_addr, host)
    works = alive and http_session_works(http_addr, host) and grpc_session_works(server.grpc_addr)
    after = settle(server) if alive else 0
    # "Back to baseline": within 25% or 8 MiB of it, whichever is more.
    memory_ok = alive and after <= baseline + max(8 << 20, baseline // 4)

    names = list(CLASSES)
    print(f"\n{'class':22} {'sent':>7} {'s':>5}  outcomes")
    for kind in names:
        counts = outcomes[kind]
        top = ", ".join(f"{o}: {n}" for o, n in counts.most_common())
        print(f"{kind:22} {sum(counts.values()):7} {spent[kind]:5.0f}  {top}")
    print(
        f"\n{sent} requests in {elapsed:.0f}s; alive {alive}, 5xx {five_xx}, gRPC UNKNOWN/INTERNAL/DATA_LOSS "
        f"{grpc_faults}, timeouts {timeouts}, readyz {ready}, health SERVING {serving}, normal session "
        f"works {works}; RSS baseline {baseline / 2**20:.1f} MiB, at the end {peak / 2**20:.1f} MiB, "
        f"settled {after / 2**20:.1f} MiB"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "seed": args.seed, "sent": sent, "seconds": elapsed, "alive": alive, "5xx": five_xx,
                    "grpc_faults": grpc_faults, "timeouts": timeouts, "serving": serving, "works": works,
                    "rss_baseline": baseline, "rss_end": peak, "rss_settled": after,
                    "outcomes": {k: dict(v) for k, v in outcomes.items()}, "seconds_by_class": dict(spent),
                },
                f,
                indent=2,
            )  # fmt: skip
    ok = alive and five_xx == 0 and grpc_faults == 0 and timeouts == 0 and ready and serving and works and memory_ok
    if alive:
        server.stop()
    print("malformed traffic: " + ("1 passed, 0 failed" if ok else "0 passed, 1 failed"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
