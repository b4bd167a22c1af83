// Get / Set / Touch / Flush on the client's Pipeline stream, against a real
// sessiond: many calls at once each answered with its own reply, replies
// out of order, errors typed as on the unary path, the deadline, the
// client-side in-flight cap, a server that goes away mid-stream, and
// `multiplex: false`. Which path a call took is read from sessiond's own
// request counters (`Pipeline/Get` against `Get`).
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import {
  Client,
  DeadlineExceeded,
  InvalidArgument,
  PermissionDenied,
  ResourceExhausted,
  SessionNotFound,
  Unauthenticated,
  Unavailable,
  VersionConflict,
} from "sessiond";
import { freePort, redisServer, sessiondForExpress, tokensFile, sessiond } from "./servers.mjs";

/** sessiond's count of `method` calls answered with `outcome`. */
async function served(server, method, outcome = "OK") {
  const text = await (await fetch(`http://${server.adminAddr}/metrics`)).text();
  const series = `sessiond_requests_total{api="grpc",method="${method}",outcome="${outcome}"} `;
  const line = text.split("\n").find((l) => l.startsWith(series));
  return line ? Number(line.slice(series.length)) : 0;
}

describe("on the stream", () => {
  let server;
  let client;

  before(async () => {
    server = await sessiondForExpress("--max-value-bytes", "1024");
    client = new Client({ target: server.grpcAddr, token: server.token });
  });

  after(async () => {
    client?.close();
    await server?.stop();
  });

  test("many calls at once each get their own session's reply", async () => {
    const sessions = await Promise.all(Array.from({ length: 20 }, (_, i) => client.create({ n: i })));
    const [getsBefore, unaryBefore] = [await served(server, "Pipeline/Get"), await served(server, "Get")];
    const calls = [];
    for (let round = 0; round < 5; round++) {
      sessions.forEach((s, i) => calls.push(client.get(s.id).then((got) => [i, got])));
    }
    for (const [i, got] of await Promise.all(calls)) {
      assert.equal(got.info.id, sessions[i].id);
      assert.deepEqual(got.data, { n: i });
    }
    assert.equal((await served(server, "Pipeline/Get")) - getsBefore, 100);
    assert.equal(await served(server, "Get"), unaryBefore);
  });

  test("replies larger than an HTTP/2 frame, and bursts larger than its window, arrive whole", async () => {
    // 60 values of 1000 bytes: each reply ~60 KB, over the 16 KB frame, so
    // it comes cut across data events; 40 at once pass the 64 KB window.
    const data = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, `${i}`.padEnd(998, "x")]));
    const { id } = await client.create(data);
    const big = { blob: "y".repeat(1000) };
    const writes = Array.from({ length: 40 }, () => client.set(id, big));
    const reads = await Promise.all(Array.from({ length: 40 }, () => client.get(id)));
    await Promise.all(writes);
    for (const got of reads) {
      for (const [key, value] of Object.entries(data)) assert.equal(got.data[key], value);
    }
    assert.deepEqual((await client.get(id)).data, { ...data, ...big });
  });

  test("set, touch and flush travel on it and answer as unary calls do", async () => {
    const { id } = await client.create({ a: 1 });
    const before = await Promise.all(["Pipeline/Set", "Pipeline/Touch", "Pipeline/Flush"].map((m) => served(server, m)));
    const set = await client.set(id, { b: 2 }, { remove: ["a"] });
    assert.equal(set.version, 2);
    const touched = await client.touch(id, { idleTimeoutMs: 120_000 });
    assert.equal(touched.idleTimeoutMs, 120_000);
    assert.deepEqual((await client.get(id)).data, { b: 2 });
    assert.equal(await client.flush(id), true);
    assert.equal(await client.flush(id), false);
    const after = await Promise.all(["Pipeline/Set", "Pipeline/Touch", "Pipeline/Flush"].map((m) => served(server, m)));
    assert.deepEqual(after.map((n, i) => n - before[i]), [1, 1, 2]);
  });

  test("each failed request rejects with the unary path's typed error, and the others go on", async () => {
    const { id } = await client.create({ a: 1 });
    const results = await Promise.allSettled([
      client.get("abcdefghijklmnopqrstuvwxyz012345"),
      client.get("short"),
      client.set(id, { a: 2 }, { expectedVersion: 7 }),
      client.set(id, { big: "x".repeat(2000) }),
      client.touch("abcdefghijklmnopqrstuvwxyz012345"),
      client.get(id),
    ]);
    const [unknown, malformed, stale, big, untouched, fine] = results;
    assert.ok(unknown.reason instanceof SessionNotFound, String(unknown.reason));
    assert.equal(unknown.reason.code, "NOT_FOUND");
    assert.match(unknown.reason.message, /^sessiond Get at /);
    assert.ok(malformed.reason instanceof InvalidArgument);
    assert.match(malformed.reason.message, /22 to 256 characters/);
    assert.ok(stale.reason instanceof VersionConflict);
    assert.ok(big.reason instanceof ResourceExhausted);
    assert.match(big.reason.message, /max-value-bytes/);
    assert.ok(untouched.reason instanceof SessionNotFound);
    assert.deepEqual(fine.value.data, { a: 1 });
  });

  test("a read-only token may get on the stream but not set; a wrong one is Unauthenticated", async () => {
    const reader = new Client({ target: server.grpcAddr, token: server.readOnlyToken });
    const stranger = new Client({ target: server.grpcAddr, token: "not-a-token" });
    try {
      const { id } = await client.create({ a: 1 });
      assert.deepEqual((await reader.get(id)).data, { a: 1 });
      await assert.rejects(reader.set(id, { a: 2 }), PermissionDenied);
      await assert.rejects(stranger.get(id), Unauthenticated);
      await assert.rejects(stranger.get(id), Unauthenticated);
    } finally {
      reader.close();
      stranger.close();
    }
  });

  test("multiplex: false sends each call unary", async () => {
    const unary = new Client({ target: server.grpcAddr, token: server.token, multiplex: false });
    try {
      const { id } = await client.create({ a: 1 });
      const [streamed, single] = [await served(server, "Pipeline/Get"), await served(server, "Get")];
      assert.deepEqual((await unary.get(id)).data, { a: 1 });
      await assert.rejects(unary.get("abcdefghijklmnopqrstuvwxyz012345"), SessionNotFound);
      assert.equal(await served(server, "Get"), single + 1);
      assert.equal(await served(server, "Get", "NOT_FOUND") >= 1, true);
      assert.equal(await served(server, "Pipeline/Get"), streamed);
    } finally {
      unary.close();
    }
  });

  test("maxInFlight must be a positive integer", () => {
    assert.throws(() => new Client({ maxInFlight: 0 }), /maxInFlight/);
    assert.throws(() => new Client({ maxInFlight: 1.5 }), /maxInFlight/);
  });

  test("calls after close reject as Unavailable", async () => {
    const closing = new Client({ target: server.grpcAddr, token: server.token });
    const { id } = await closing.create({});
    closing.close();
    await assert.rejects(closing.get(id), Unavailable);
  });
});

describe("replies out of order", () => {
  let redis;
  let server;

  before(async () => {
    redis = await redisServer();
    server = await sessiondForExpress("--backend", "redis", "--redis-url", redis.url, "--redis-timeout", "60s");
  });

  after(async () => {
    await server?.stop();
    await redis?.stop();
  });

  test("a call that fails validation is answered while an earlier one waits for Redis, each with its own reply", async () => {
    const client = new Client({ target: server.grpcAddr, token: server.token });
    try {
      const { id } = await client.create({ a: 1 });
      await redis.freeze();
      const order = [];
      const waiting = client.get(id).then((got) => (order.push("get"), got));
      // Answered by sessiond without asking Redis.
      await assert.rejects(
        client.get("short").finally(() => order.push("invalid")),
        InvalidArgument,
      );
      assert.deepEqual(order, ["invalid"]);
      redis.thaw();
      assert.deepEqual((await waiting).data, { a: 1 });
      assert.deepEqual(order, ["invalid", "get"]);
    } finally {
      client.close();
    }
  });
});

describe("the in-flight cap", () => {
  let server;

  before(async () => {
    // Each Set waits for an fsync, so Sets pile up past the server's cap of 2
    // unless the client holds them back.
    const dataDir = mkdtempSync(join(tmpdir(), "sessiond-pipeline-"));
    server = await sessiondForExpress("--data-dir", dataDir, "--fsync", "always", "--max-pipeline-in-flight", "2");
  });

  after(async () => {
    await server?.stop();
  });

  test("past the client's maxInFlight calls wait their turn instead of meeting the server's cap", async () => {
    const client = new Client({ target: server.grpcAddr, token: server.token, maxInFlight: 2 });
    try {
      const sessions = await Promise.all(Array.from({ length: 5 }, () => client.create({})));
      const writes = [];
      for (let i = 0; i < 40; i++) writes.push(client.set(sessions[i % 5].id, { [`k${i}`]: i }));
      const results = await Promise.allSettled(writes);
      const refused = results.filter((r) => r.status === "rejected").map((r) => String(r.reason));
      assert.deepEqual(refused, []);
      for (const s of sessions) assert.equal(Object.keys((await client.get(s.id)).data).length, 8);
    } finally {
      client.close();
    }
  });
});

describe("a server that stops answering or goes away", () => {
  test("a call whose deadline passes on a silent stream rejects with DeadlineExceeded, the stream is given up, and a new one serves the next call", async () => {
    const server = await sessiondForExpress();
    const client = new Client({ target: server.grpcAddr, token: server.token });
    try {
      const { id } = await client.create({ a: 1 });
      assert.deepEqual((await client.get(id)).data, { a: 1 });
      await server.freeze();
      const patient = client.get(id, { timeoutMs: 60_000 }).then(
        () => "answered",
        (err) => err,
      );
      // A short deadline alone does not give the stream up.
      await assert.rejects(client.get(id, { timeoutMs: 100 }), DeadlineExceeded);
      assert.equal(await Promise.race([patient, new Promise((resolve) => setImmediate(() => resolve("waiting")))]), "waiting");
      await assert.rejects(client.get(id, { timeoutMs: 1200 }), (err) => {
        assert.ok(err instanceof DeadlineExceeded, String(err));
        assert.equal(err.code, "DEADLINE_EXCEEDED");
        return true;
      });
      // Nothing came back on the stream in 1.2 s: it is given up,
      // so the call still waiting on it fails now instead of after 60 s.
      const other = await patient;
      assert.ok(other instanceof Unavailable && !(other instanceof DeadlineExceeded), String(other));
      assert.match(other.message, /answered nothing/);
      server.thaw();
      assert.deepEqual((await client.get(id)).data, { a: 1 });
    } finally {
      client.close();
      await server.stop();
    }
  });

  test("pending calls reject as Unavailable when the server dies, and later calls recover after a restart", async () => {
    const { path, tokens } = tokensFile([["express", false]]);
    const grpcAddr = `127.0.0.1:${await freePort()}`;
    const dataDir = mkdtempSync(join(tmpdir(), "sessiond-restart-"));
    const args = ["--grpc-addr", grpcAddr, "--tokens-file", path, "--data-dir", dataDir, "--fsync", "always"];
    let server = await sessiond(...args);
    const client = new Client({ target: grpcAddr, token: tokens[0], timeoutMs: 10_000 });
    try {
      const { id } = await client.create({ a: 1 });
      assert.deepEqual((await client.get(id)).data, { a: 1 });
      await server.freeze();
      const pending = Promise.allSettled([client.get(id), client.set(id, { b: 2 }), client.touch(id), client.flush(id)]);
      await server.kill();
      const results = await pending;
      assert.equal(results.length, 4);
      for (const r of results) {
        assert.equal(r.status, "rejected");
        assert.ok(r.reason instanceof Unavailable && !(r.reason instanceof DeadlineExceeded), String(r.reason));
      }
      server = await sessiond(...args);
      assert.deepEqual((await client.get(id)).data, { a: 1 });
      assert.equal((await client.set(id, { b: 2 })).version, 2);
    } finally {
      client.close();
      await server.stop();
    }
  });
});
