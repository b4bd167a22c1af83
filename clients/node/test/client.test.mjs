// The client against a real sessiond: every RPC, the typed errors, the
// deadline, tokens, and what it refuses before sending.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { after, before, describe, test } from "node:test";

import {
  Client,
  DeadlineExceeded,
  InvalidArgument,
  PermissionDenied,
  ResourceExhausted,
  SessiondError,
  SessionNotFound,
  Unauthenticated,
  Unavailable,
  VersionConflict,
} from "sessiond";
import { certificates, freePort, sessiond, sessiondForExpress } from "./servers.mjs";

let server;
let client;

before(async () => {
  server = await sessiondForExpress("--max-value-bytes", "1024", "--max-session-bytes", "4096");
  client = new Client({ target: server.grpcAddr, token: server.token });
});

after(async () => {
  client?.close();
  await server?.stop();
});

describe("every RPC", () => {
  test("a watch starts with resync, then tells a change by position", async () => {
    const created = await client.create({ a: 1 });
    const stream = client.watch([created.id]);
    const events = [];
    const two = new Promise((resolve, reject) => {
      stream.on("data", (event) => {
        events.push(event);
        if (events.length === 1) client.set(created.id, { b: 2 }).catch(reject);
        if (events.length === 2) resolve();
      });
      stream.on("error", (err) => { if (events.length < 2) reject(err); });
    });
    await two;
    stream.cancel();
    assert.equal(events[0].event, "resync");
    assert.equal(events[0].resync.epoch.length, 16);
    assert.equal(events[1].index, 0);
    assert.equal(Number(events[1].changed.version), 2);
  });

  test("a pipeline answers each request under its tag and goes on after a failure", async () => {
    const created = await client.create({ a: 1 });
    const stream = client.pipeline();
    const replies = new Map();
    const done = new Promise((resolve, reject) => {
      stream.on("data", (reply) => {
        replies.set(Number(reply.tag), reply);
        if (replies.size === 3) stream.end();
      });
      stream.on("error", reject);
      stream.on("end", resolve);
    });
    stream.write({ tag: 1, get: { id: created.id, keys: [], no_touch: false } });
    stream.write({ tag: 2, get: { id: "x".repeat(32), keys: [], no_touch: false } });
    stream.write({ tag: 3, flush: { id: created.id } });
    await done;
    assert.equal(replies.get(1).get.data.a, "1");
    assert.equal(replies.get(2).error.code, 5);
    assert.equal(replies.get(3).flush.existed, true);
  });

  test("create, get, set, touch, rotate and flush a session", async () => {
    const created = await client.create({ user: "yuan", cart: { items: [1, 2] } });
    assert.equal(created.id.length, 32);
    assert.equal(created.version, 1);
    assert.ok(created.expiresAt > created.createdAt);

    const got = await client.get(created.id);
    assert.deepEqual(got.data, { user: "yuan", cart: { items: [1, 2] } });
    const one = await client.get(created.id, { keys: ["user", "absent"] });
    assert.deepEqual(one.data, { user: "yuan" });

    const set = await client.set(created.id, { n: 1.5 }, { remove: ["cart"] });
    assert.equal(set.version, 2);
    assert.deepEqual((await client.get(created.id)).data, { user: "yuan", n: 1.5 });

    const touched = await client.touch(created.id, { idleTimeoutMs: 60_000 });
    assert.equal(touched.idleTimeoutMs, 60_000);

    const rotated = await client.rotate(created.id);
    assert.notEqual(rotated.id, created.id);
    await assert.rejects(client.get(created.id), SessionNotFound);
    assert.deepEqual((await client.get(rotated.id)).data, { user: "yuan", n: 1.5 });

    assert.equal(await client.flush(rotated.id), true);
    assert.equal(await client.flush(rotated.id), false);
    await assert.rejects(client.get(rotated.id), SessionNotFound);
  });

  test("a set may create under a chosen id and replace the whole map", async () => {
    const id = "chosen_" + "x".repeat(25);
    const created = await client.set(id, { a: 1, b: 2 }, { createIfMissing: true, idleTimeoutMs: 3_600_000 });
    assert.equal(created.id, id);
    assert.equal(created.idleTimeoutMs, 3_600_000);
    await client.set(id, { c: 3 }, { replaceAll: true });
    assert.deepEqual((await client.get(id)).data, { c: 3 });
    await client.flush(id);
  });

  test("a key named __proto__ is kept as data, both ways, and sets no prototype", async () => {
    const data = JSON.parse('{"__proto__": {"admin": true}, "n": 1}');
    const { id } = await client.create(data);
    await client.set(id, JSON.parse('{"__proto__": {"admin": "yes"}}'));
    for (const multiplex of [true, false]) {
      const reader = multiplex ? client : new Client({ target: server.grpcAddr, token: server.token, multiplex });
      try {
        const got = (await reader.get(id)).data;
        assert.deepEqual(Object.keys(got).sort(), ["__proto__", "n"]);
        assert.equal(Object.getPrototypeOf(got), Object.prototype);
        assert.equal(got.admin, undefined);
        assert.deepEqual(Object.getOwnPropertyDescriptor(got, "__proto__").value, { admin: "yes" });
        assert.deepEqual((await reader.getJson(id)).data, Object.fromEntries([["__proto__", '{"admin":"yes"}'], ["n", "1"]]));
      } finally {
        if (reader !== client) reader.close();
      }
    }
    await client.flush(id);
  });

  test("count and clear act on the token's namespace only", async () => {
    const other = new Client({ target: server.grpcAddr, token: server.otherToken });
    try {
      await client.clearSessions();
      await client.create({});
      await client.create({});
      const kept = await other.create({});
      assert.equal(await client.countSessions(), 2);
      assert.equal(await client.clearSessions(), 2);
      assert.equal(await client.countSessions(), 0);
      assert.equal(await other.countSessions(), 1);
      await other.flush(kept.id);
    } finally {
      other.close();
    }
  });

  test("a user's sessions are listed by handle and revoked", async () => {
    const mine = await client.create({}, { user: { userId: "u-1", userAgent: "test", ip: "127.0.0.1" } });
    const other = await client.create({});
    await client.bindUser(other.id, { userId: "u-1" });
    const listed = await client.listUserSessions("u-1", { currentId: mine.id });
    assert.equal(listed.length, 2);
    assert.ok(listed.every((s) => s.handle.length === 32 && s.handle !== mine.id && s.handle !== other.id));
    assert.equal(listed.filter((s) => s.current).length, 1);
    const elsewhere = listed.find((s) => !s.current);
    assert.equal(await client.revokeSession(elsewhere.handle), true);
    await assert.rejects(client.get(other.id), SessionNotFound);
    assert.equal(await client.revokeUserSessions("u-1"), 1);
    await assert.rejects(client.get(mine.id), SessionNotFound);
  });

  test("compare-and-set refuses a stale version", async () => {
    const { id } = await client.create({ a: 1 });
    await client.set(id, { a: 2 }, { expectedVersion: 1 });
    await assert.rejects(client.set(id, { a: 3 }, { expectedVersion: 1 }), VersionConflict);
  });
});

describe("errors", () => {
  test("each status is its own class, with the server's message", async () => {
    await assert.rejects(client.get("abcdefghijklmnopqrstuvwxyz012345"), (err) => {
      assert.ok(err instanceof SessionNotFound && err instanceof SessiondError);
      assert.equal(err.code, "NOT_FOUND");
      return true;
    });
    await assert.rejects(client.get("short"), (err) => {
      assert.ok(err instanceof InvalidArgument);
      assert.match(err.message, /22 to 256 characters/);
      return true;
    });
  });

  test("a value too large names the server's limit", async () => {
    const { id } = await client.create({});
    await assert.rejects(client.set(id, { big: "x".repeat(2000) }), (err) => {
      assert.ok(err instanceof ResourceExhausted);
      assert.match(err.message, /max-value-bytes/);
      return true;
    });
  });

  test("a value that is not JSON-serializable is refused naming its key, before any call", async () => {
    const circular = {};
    circular.self = circular;
    await assert.rejects(client.create({ ok: 1, loop: circular }), (err) => {
      assert.ok(err instanceof InvalidArgument);
      assert.match(err.message, /"loop"/);
      return true;
    });
    await assert.rejects(client.create({ big: 10n }), /"big"/);
  });

  test("a wrong token is Unauthenticated, a read-only one may read but not change", async () => {
    const stranger = new Client({ target: server.grpcAddr, token: "not-a-token" });
    const reader = new Client({ target: server.grpcAddr, token: server.readOnlyToken });
    try {
      await assert.rejects(stranger.countSessions(), Unauthenticated);
      const { id } = await client.create({ a: 1 });
      assert.deepEqual((await reader.get(id)).data, { a: 1 });
      assert.equal(typeof (await reader.countSessions()), "number");
      await assert.rejects(reader.set(id, { a: 2 }), PermissionDenied);
      await assert.rejects(reader.clearSessions(), (err) => {
        assert.ok(err instanceof PermissionDenied);
        assert.match(err.message, /read-only/);
        return true;
      });
    } finally {
      stranger.close();
      reader.close();
    }
  });

  test("an unreachable sessiond fails within the deadline", async () => {
    const port = await freePort();
    const lost = new Client({ target: `127.0.0.1:${port}`, timeoutMs: 500 });
    try {
      const started = Date.now();
      await assert.rejects(lost.create({}), (err) => {
        assert.ok(err instanceof Unavailable, String(err));
        assert.match(err.message, /reachable|deadline|DEADLINE|UNAVAILABLE/);
        return true;
      });
      assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
    } finally {
      lost.close();
    }
  });

  test("DeadlineExceeded is a kind of Unavailable", () => {
    assert.ok(new DeadlineExceeded("x") instanceof Unavailable);
  });

  test("bad options are refused at construction, naming the option", () => {
    assert.throws(() => new Client({ target: "no-port" }), /target/);
    assert.throws(() => new Client({ timeoutMs: 0 }), /timeoutMs/);
    assert.throws(() => new Client({ token: "has space" }), /token/);
    assert.throws(() => new Client({ tlsCert: "x" }), /tlsKey/);
  });
});

describe("TLS and mTLS", () => {
  let tls;
  let certs;

  before(async () => {
    certs = certificates();
    tls = await sessiond("--tls-cert", certs.serverCert, "--tls-key", certs.serverKey, "--tls-client-ca", certs.ca);
  });

  after(async () => {
    await tls?.stop();
  });

  test("with the client's certificate every call works, on the stream and unary", async () => {
    const secure = new Client({
      target: tls.grpcAddr,
      tlsCa: certs.ca,
      tlsCert: certs.clientCert,
      tlsKey: readFileSync(certs.clientKey),
      tlsServerName: "localhost",
    });
    try {
      const { id } = await secure.create({ a: 1 });
      await secure.set(id, { b: "two" });
      assert.deepEqual((await secure.get(id)).data, { a: 1, b: "two" });
      await secure.touch(id);
      assert.equal(await secure.flush(id), true);
      await assert.rejects(secure.get(id), SessionNotFound);
    } finally {
      secure.close();
    }
  });

  test("without the client's certificate the stream's calls are refused, not hung", async () => {
    const anonymous = new Client({ target: tls.grpcAddr, tlsCa: certs.ca, tlsServerName: "localhost", timeoutMs: 3000 });
    try {
      await assert.rejects(anonymous.get("0".repeat(32)), (err) => {
        assert.ok(err instanceof Unavailable && !(err instanceof DeadlineExceeded), String(err));
        assert.match(err.message, /certificate required/);
        return true;
      });
    } finally {
      anonymous.close();
    }
  });

  test("a certificate for another name is refused: the stream checks the server's name", async () => {
    const wrongName = new Client({
      target: tls.grpcAddr,
      tlsCa: certs.ca,
      tlsCert: certs.clientCert,
      tlsKey: certs.clientKey,
      timeoutMs: 3000,
    });
    try {
      await assert.rejects(wrongName.get("0".repeat(32)), (err) => {
        assert.ok(err instanceof Unavailable && !(err instanceof DeadlineExceeded), String(err));
        assert.match(err.message, /altnames/);
        return true;
      });
    } finally {
      wrongName.close();
    }
  });

  test("plaintext against a TLS server fails as Unavailable within the deadline", async () => {
    const plain = new Client({ target: tls.grpcAddr, timeoutMs: 2000 });
    try {
      const started = Date.now();
      await assert.rejects(plain.get("0".repeat(32)), Unavailable);
      assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
    } finally {
      plain.close();
    }
  });
});

test("the CommonJS build loads with require and exports the same API", () => {
  const require = createRequire(import.meta.url);
  const cjs = require("sessiond");
  assert.equal(typeof cjs.Client, "function");
  assert.equal(typeof cjs.SessiondStore, "function");
  assert.equal(typeof cjs.SessionNotFound, "function");
});
