// SessiondStore through express-session's Store interface, as
// connect-redis's lifecycle test drives its store: set, get, touch, ttl,
// length, destroy, clear, expiry; and every callback path, errors included.
import assert from "node:assert/strict";
import { promisify } from "node:util";
import { after, before, test } from "node:test";

import { Client, SessiondStore } from "sessiond";
import { freePort, sessiondForExpress } from "./servers.mjs";

let server;
let store;
let client;

const call = (method, ...args) => promisify(store[method].bind(store))(...args);

function sid(n) {
  return `lifecycle-${n}-`.padEnd(32, "q");
}

function sess(data, maxAgeMs = 60_000) {
  return {
    cookie: { originalMaxAge: maxAgeMs, expires: new Date(Date.now() + maxAgeMs).toISOString(), httpOnly: true, path: "/" },
    ...data,
  };
}

before(async () => {
  server = await sessiondForExpress("--min-idle-timeout", "1s");
  client = new Client({ target: server.grpcAddr, token: server.token });
  store = new SessiondStore({ client });
});

after(async () => {
  client?.close();
  await server?.stop();
});

test("set then get returns the session; an unknown id gets null", async () => {
  await call("set", sid(1), sess({ foo: "bar", n: [1, 2] }));
  const got = await call("get", sid(1));
  assert.equal(got.foo, "bar");
  assert.deepEqual(got.n, [1, 2]);
  assert.equal(got.cookie.originalMaxAge, 60_000);
  assert.equal(await call("get", sid(404)), null);
  // A cookie value of a shape sessiond would never accept is no session either.
  assert.equal(await call("get", "x"), null);
});

test("the cookie's maxAge is the session's idle timeout (ttl)", async () => {
  await call("set", sid(2), sess({}, 300_000));
  const { info } = await client.get(sid(2));
  assert.equal(info.idleTimeoutMs, 300_000);
  // A browser-session cookie (no maxAge) takes the store's ttl.
  const withTtl = new SessiondStore({ client, ttl: 120 });
  await promisify(withTtl.set.bind(withTtl))(sid(3), { cookie: { originalMaxAge: null } });
  assert.equal((await client.get(sid(3))).info.idleTimeoutMs, 120_000);
});

test("touch slides the deadline and may change the idle timeout; on a missing session it is no error", async () => {
  await call("set", sid(4), sess({ a: 1 }, 60_000));
  const loaded = await call("get", sid(4));
  loaded.cookie.originalMaxAge = 600_000;
  await call("touch", sid(4), loaded);
  const { info, data } = await client.get(sid(4), { noTouch: true });
  assert.equal(info.idleTimeoutMs, 600_000);
  assert.equal(JSON.parse(JSON.stringify(data.a)), 1);
  await call("touch", sid(405), sess({}));
});

test("length counts and clear empties the namespace", async () => {
  await call("clear");
  assert.equal(await call("length"), 0);
  await call("set", sid(5), sess({}));
  await call("set", sid(6), sess({}));
  assert.equal(await call("length"), 2);
  await call("clear");
  assert.equal(await call("length"), 0);
  assert.equal(await call("get", sid(5)), null);
});

test("destroy deletes the session, and is idempotent", async () => {
  await call("set", sid(7), sess({ a: 1 }));
  await call("destroy", sid(7));
  assert.equal(await call("get", sid(7)), null);
  await call("destroy", sid(7));
});

test("a session's deadline is its cookie's maxAge from the last write", async () => {
  // The server's clock is real and the test never sleeps: that a session
  // is gone once that deadline passes is the server's own tested rule
  // (tests/client_ids.rs and the conformance suite, on a manual clock).
  await call("set", sid(8), sess({ a: 1 }, 1000));
  const { info } = await client.get(sid(8), { noTouch: true });
  assert.equal(info.idleTimeoutMs, 1000);
  assert.ok(info.expiresAt.getTime() - Date.now() <= 1000);
});

test("all and ids are not offered: sessiond never holds ids in usable form", () => {
  assert.equal(store.all, undefined);
  assert.equal(store.ids, undefined);
});

test("every call reports an unreachable sessiond to its callback within the deadline", async () => {
  const port = await freePort();
  const lost = new SessiondStore({ clientOptions: { target: `127.0.0.1:${port}`, timeoutMs: 300 } });
  try {
    for (const [method, args] of [
      ["get", [sid(9)]],
      ["set", [sid(9), sess({})]],
      ["touch", [sid(9), sess({})]],
      ["destroy", [sid(9)]],
      ["length", []],
      ["clear", []],
    ]) {
      const started = Date.now();
      const err = await new Promise((resolve) => lost[method](...args, (e) => resolve(e)));
      assert.ok(err instanceof Error, `${method} called back with ${err}`);
      assert.match(err.message, /UNAVAILABLE|DEADLINE_EXCEEDED/, method);
      assert.ok(Date.now() - started < 3000, `${method} took ${Date.now() - started} ms`);
    }
  } finally {
    lost.client.close();
  }
});

test("a session that is not JSON-serializable is an error naming the key", async () => {
  const bad = sess({ ok: 1, total: 10n });
  await assert.rejects(call("set", sid(10), bad), /"total"/);
});
