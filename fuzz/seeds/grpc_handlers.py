"""Writes the seeds of fuzz/fuzz_targets/grpc_handlers.rs into a directory
(fuzz/corpus/grpc_handlers): call sequences in its input format (op, id
reference, length, message), messages encoded by hand as protobuf.

    python3 fuzz/seeds/grpc_handlers.py fuzz/corpus/grpc_handlers
"""

import sys
from pathlib import Path


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, wire, payload):
    key = varint(num << 3 | wire)
    if wire == 2:
        return key + varint(len(payload)) + payload
    return key + payload


def s(num, text):
    return field(num, 2, text.encode() if isinstance(text, str) else text)


def v(num, n):
    return field(num, 0, varint(n))


def entry(num, k, val):
    return s(num, s(1, k) + s(2, val))


def duration(num, secs, nanos=0):
    return s(num, v(1, secs) + (v(2, nanos) if nanos else b""))


CREATE, GET, SET, FLUSH, ROTATE, TOUCH, CLOCK, BIND = range(8)


def caller(op, who):  # who: 0 shop, 2 other, 3 reader; op | 0xE0: a bad token
    return op | who << 3


def call(op, msg=b"", ref=0, who=0):
    assert len(msg) < 256
    return bytes([caller(op, who), ref, len(msg)]) + msg


def clock(b):
    return bytes([CLOCK, b])


seeds = {
    "seed-lifecycle": call(CREATE, entry(1, "user", '"yuan"') + duration(2, 60))
    + call(GET)
    + call(SET, entry(2, "cart", "[1,2]") + s(3, "user") + v(4, 1))
    + call(GET, s(2, "cart") + v(3, 1))
    + call(TOUCH, duration(2, 120))
    + call(ROTATE)
    + call(GET, ref=1)
    + call(GET, ref=0)
    + call(FLUSH, ref=1)
    + call(FLUSH, ref=1)
    + call(GET, ref=1),
    "seed-compare-and-set": call(CREATE, entry(1, "n", "1"))
    + call(SET, entry(2, "n", "2") + v(4, 1))
    + call(SET, entry(2, "n", "3") + v(4, 1))
    + call(SET, entry(2, "n", "3") + v(4, 2))
    + call(GET),
    "seed-expiry": call(CREATE, duration(2, 30))
    + call(GET)
    + clock(1)
    + call(GET)
    + call(TOUCH)
    + clock(3)
    + call(TOUCH, duration(2, 3600))
    + clock(200)
    + call(GET)
    + call(CREATE)
    + clock(250)
    + call(GET, ref=1),
    "seed-namespaces": call(CREATE, entry(1, "a", "true"))
    + call(GET, who=2)
    + call(SET, entry(2, "x", "1"), who=2)
    + call(FLUSH, who=2)
    + call(GET, who=3)
    + call(SET, entry(2, "x", "1"), who=3)
    + call(FLUSH, who=3)
    + call(GET),
    "seed-limits": b"".join(call(CREATE, entry(1, f"k{i}", '"' + "v" * 40 + '"')) for i in range(6))
    + call(SET, b"".join(entry(2, f"k{i}", '"' + "x" * 60 + '"') for i in range(3)))
    + call(SET, entry(2, "a" * 20, "1"))
    + call(SET, entry(2, "bad", "{nope")),
    "seed-invalid": call(GET, s(1, "short"), ref=0x80)
    + call(CREATE, duration(2, 0, 5))
    + call(CREATE, duration(2, 99999))
    + call(SET, b"\x0a\xff")
    + call(TOUCH, b"\x07")
    + call(CREATE)
    + call(SET, s(3, "") + s(2, s(1, "") + s(2, "1"))),
    "seed-users": call(CREATE, s(10, s(1, "u1") + s(2, "Firefox") + s(3, "192.0.2.1")))
    + call(CREATE, s(10, s(1, "u1")))
    + call(CREATE, s(10, s(1, "u1")))
    + call(BIND, s(2, s(1, "u2") + s(3, "2001:db8::1")), ref=0)
    + call(CREATE, s(10, s(1, "u1")))
    + call(BIND, b"", ref=1)
    + call(BIND, s(2, s(1, "")), ref=1)
    + call(BIND, s(2, s(1, "a\x01")), ref=1)
    + call(ROTATE, ref=0)
    + call(GET, ref=0)
    + call(BIND, s(2, s(1, "u3")), who=3),
    "seed-stopping": call(CREATE)
    + call(GET)
    + bytes([0xFF])
    + call(GET)
    + call(FLUSH)
    + call(CREATE)
    + bytes([GET | 0xE0, 0, 0]),
}
out = Path(sys.argv[1])
for name, data in seeds.items():
    (out / name).write_bytes(data)
print(len(seeds), "seeds")
