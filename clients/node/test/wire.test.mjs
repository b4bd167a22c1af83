// wire.ts, the hand-coded Pipeline messages, held to protobufjs (the coder
// grpc-js uses, from the same proto/): every request encodes to bytes
// protobufjs reads back as it would read its own, and every reply protobufjs
// writes decodes to what grpc-js's coder makes of it; unknown fields are
// stepped over; bytes that do not decode throw, never hang or misread.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

import { descriptor } from "../dist/esm/generated/descriptor.js";
import { decodeResponse, encodeRequest, WireError } from "../dist/esm/wire.js";

const require = createRequire(import.meta.url);
const protoLoader = require("@grpc/proto-loader");

// grpc-js's coders, with the client's options.
const definition = protoLoader.fromJSON(descriptor, {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
});
const pipeline = definition["sessiond.v1.SessionService"].Pipeline;

const id = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdl";
const cookie = JSON.stringify({ originalMaxAge: 3_600_000, expires: "2026-12-05T10:00:00.000Z", httpOnly: true, path: "/" });

const requests = {
  "a get": { tag: 1, get: { id, keys: [], no_touch: false } },
  "a get of some keys, without touching": { tag: 2, get: { id, keys: ["user", "cart", ""], no_touch: true } },
  "a set with upserts and removals": {
    tag: 3,
    set: { id, upsert: { cookie, n: "41", "ключ": '"значение ✓"' }, remove: ["old", "stale"], create_if_missing: false, replace_all: false, idle_timeout: null },
  },
  "a set creating, replacing, with a version and a timeout": {
    tag: 2 ** 40 + 7,
    set: {
      id,
      upsert: { user: '"yuan"', empty: '""' },
      remove: [],
      expected_version: 0,
      create_if_missing: true,
      replace_all: true,
      idle_timeout: { seconds: 3600, nanos: 500_000_000 },
    },
  },
  "a set with a large version": { tag: 4, set: { id, upsert: {}, remove: [], expected_version: 2 ** 52 + 1 } },
  "a touch": { tag: 5, touch: { id, idle_timeout: null } },
  "a touch changing the timeout": { tag: 6, touch: { id, idle_timeout: { seconds: 0, nanos: 1 } } },
  "a touch with a negative duration (the server refuses it)": { tag: 7, touch: { id, idle_timeout: { seconds: -5, nanos: -250 } } },
  "a flush": { tag: 8, flush: { id } },
  "a flush of an empty id, tag 0": { tag: 0, flush: { id: "" } },
  "a value longer than the writer's first buffer": { tag: 9, set: { id, upsert: { big: JSON.stringify("x".repeat(70_000)) }, remove: [] } },
};

describe("requests: what wire.ts writes protobufjs reads as its own", () => {
  for (const [name, request] of Object.entries(requests)) {
    test(name, () => {
      const framed = encodeRequest(request);
      assert.equal(framed[0], 0, "not compressed");
      assert.equal(framed.readUInt32BE(1), framed.length - 5, "the prefix gives the message's length");
      const ours = pipeline.requestDeserialize(framed.subarray(5));
      const theirs = pipeline.requestDeserialize(pipeline.requestSerialize(request));
      assert.deepEqual(ours, theirs);
    });
  }
});

const session = {
  id,
  version: 12,
  created_at: { seconds: 1_764_000_000, nanos: 5 },
  expires_at: { seconds: 1_764_003_600, nanos: 999_999_999 },
  idle_timeout: { seconds: 3600, nanos: 0 },
};

const replies = {
  "a get": { tag: 1, get: { session, data: { cookie, user: '"yuan"', n: "41", "ключ": '"✓"' } } },
  "a get of an empty session": { tag: 2, get: { session: { ...session, version: 0 }, data: {} } },
  "a get whose session has no timestamps": { tag: 3, get: { session: { id, version: 1 }, data: { a: "1" } } },
  "a set with a large version and tag": { tag: 2 ** 53 - 1, set: { session: { ...session, version: 2 ** 52 + 3 } } },
  "a set without a session": { tag: 4, set: {} },
  "a touch": { tag: 5, touch: { session } },
  "a flush that found the session": { tag: 6, flush: { existed: true } },
  "a flush that found none": { tag: 7, flush: { existed: false } },
  "an error": { tag: 8, error: { code: 5, message: "session not found" } },
  "an error with a unicode message": { tag: 9, error: { code: 3, message: "key «ключ» is not JSON ✗" } },
  "a negative duration and timestamp": {
    tag: 10,
    touch: { session: { ...session, created_at: { seconds: -62_135_596_800, nanos: 0 }, idle_timeout: { seconds: -1, nanos: -5 } } },
  },
  "no result (the server never sends it)": { tag: 11 },
};

describe("replies: what protobufjs writes wire.ts reads as grpc-js does", () => {
  for (const [name, reply] of Object.entries(replies)) {
    test(name, () => {
      const bytes = pipeline.responseSerialize(reply);
      assert.deepEqual({ ...decodeResponse(bytes) }, { ...pipeline.responseDeserialize(bytes) });
    });
  }

  test("a data key named __proto__ is data", () => {
    const bytes = pipeline.responseSerialize({ tag: 1, get: { session, data: { ["__proto__"]: '"x"', b: "2" } } });
    const data = decodeResponse(bytes).get.data;
    assert.deepEqual(Object.entries(data), [
      ["__proto__", '"x"'],
      ["b", "2"],
    ]);
    assert.equal(Object.getPrototypeOf(data), Object.prototype);
  });

  test("fields it does not know, of every wire type, are stepped over", () => {
    const known = pipeline.responseSerialize(replies["a get"]);
    const unknown = Buffer.from([
      (7 << 3) | 0, 0x96, 0x01, // varint 150
      (8 << 3) | 1, 1, 2, 3, 4, 5, 6, 7, 8, // fixed64
      (9 << 3) | 2, 3, 0x61, 0x62, 0x63, // bytes "abc"
      (10 << 3) | 5, 1, 2, 3, 4, // fixed32
      0xa0, 0x01, 0x2a, // field 20 (a key of two bytes), varint 42
    ]);
    assert.deepEqual({ ...decodeResponse(Buffer.concat([unknown, known, unknown])) }, { ...pipeline.responseDeserialize(known) });
  });

  test("with two members of the oneof, the last one holds, as protobufjs has it", () => {
    const a = pipeline.responseSerialize({ tag: 1, flush: { existed: true } });
    const b = pipeline.responseSerialize({ error: { code: 14, message: "gone" } });
    const bytes = Buffer.concat([a, b]);
    const ours = decodeResponse(bytes);
    assert.equal(ours.result, "error");
    assert.equal(ours.flush, undefined);
    assert.deepEqual(ours.error, { code: 14, message: "gone" });
  });
});

describe("bytes that do not decode throw WireError", () => {
  const good = pipeline.responseSerialize(replies["a get"]);
  const cases = {
    "cut short inside a field": good.subarray(0, good.length - 3),
    "a length past the end": Buffer.from([(2 << 3) | 2, 0x7f, 0x0a]),
    "a varint that never ends": Buffer.from([(1 << 3) | 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    "a varint cut at the end": Buffer.from([(1 << 3) | 0, 0xff]),
    "a group (wire type 3)": Buffer.from([(30 << 3) | 3, 0]),
    "a fixed64 cut short": Buffer.from([(30 << 3) | 1, 1, 2]),
  };
  for (const [name, bytes] of Object.entries(cases)) {
    test(name, () => {
      assert.throws(() => decodeResponse(bytes), WireError);
    });
  }
  test("every truncation of a good reply either decodes or throws WireError", () => {
    for (let end = 0; end <= good.length; end++) {
      try {
        decodeResponse(good.subarray(0, end));
      } catch (err) {
        assert.ok(err instanceof WireError, `cut at ${end}: ${err}`);
      }
    }
  });
});
