// An express + express-session app on SessiondStore, driven over HTTP:
// login with regenerate, values across requests, logout, forged and
// unknown cookies, concurrent writers, and the errors it answers 500 with.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { Client, SessiondStore } from "sessiond";
import { Browser, signedCookie, startApp } from "./app.mjs";
import { freePort, sessiondForExpress } from "./servers.mjs";

let server;
let client;
let app;

before(async () => {
  server = await sessiondForExpress("--max-value-bytes", "1024");
  client = new Client({ target: server.grpcAddr, token: server.token });
  app = await startApp(new SessiondStore({ client }));
});

after(async () => {
  await app?.stop();
  client?.close();
  await server?.stop();
});

test("login regenerates the id, values persist across requests, logout destroys the record and the cookie", async () => {
  const browser = new Browser(app.base);
  await browser.request("POST", "/value", { anonymous: true });
  const anonymous = browser.sid();
  assert.ok((await client.get(anonymous)).data.anonymous);

  const login = await browser.request("POST", "/login", { user: "yuan" });
  assert.equal(login.status, 200);
  const loggedIn = browser.sid();
  assert.notEqual(loggedIn, anonymous);
  // The pre-login id is dead at once.
  await assert.rejects(client.get(anonymous), { name: "SessionNotFound" });

  for (const visits of [1, 2, 3]) {
    const me = await browser.request("GET", "/me");
    assert.deepEqual(me.body, { user: "yuan", visits, cart: null, theme: null });
  }
  const stored = await client.get(loggedIn);
  assert.equal(stored.data.user, "yuan");
  assert.equal(stored.info.idleTimeoutMs, 3_600_000);

  const logout = await browser.request("POST", "/logout");
  assert.equal(logout.status, 200);
  assert.match(logout.setCookie, /connect\.sid=;/);
  await assert.rejects(client.get(loggedIn), { name: "SessionNotFound" });
  assert.equal(browser.cookie, null);
  assert.equal((await browser.request("GET", "/me")).status, 401);
  assert.deepEqual(app.lateErrors().map(String), []);
});

test("a forged or unknown cookie gets a fresh session", async () => {
  const forged = `connect.sid=${encodeURIComponent("s:" + "z".repeat(32) + ".bad")}`;
  const unknown = signedCookie("NeverIssued_" + "k".repeat(20));
  for (const cookie of ["connect.sid=s%3Anot-signed", forged, unknown]) {
    const browser = new Browser(app.base);
    browser.cookie = cookie;
    assert.equal((await browser.request("GET", "/me")).status, 401);
    await browser.request("POST", "/value", { fresh: true });
    assert.notEqual(browser.cookie, cookie);
    assert.equal((await client.get(browser.sid())).data.fresh, true);
  }
});

test("two concurrent requests changing different keys both survive", async () => {
  const browser = new Browser(app.base);
  await browser.request("POST", "/login", { user: "lin" });
  const [cart, theme] = await Promise.all([
    browser.request("POST", "/cart", { cart: [1, 2, 3] }),
    browser.request("POST", "/theme", { theme: "dark" }),
  ]);
  assert.equal(cart.status, 200);
  assert.equal(theme.status, 200);
  const me = await browser.request("GET", "/me");
  assert.deepEqual(me.body.cart, [1, 2, 3]);
  assert.equal(me.body.theme, "dark");
  assert.deepEqual(app.lateErrors().map(String), []);
});

test("a value over the server's limit is a 500 naming the limit", async () => {
  const browser = new Browser(app.base);
  const response = await browser.request("POST", "/value", { big: "x".repeat(2000) });
  assert.equal(response.status, 500);
  assert.match(response.body.error, /max-value-bytes/);
});

test("an unreachable sessiond is a 500 within the deadline, never a hang", async () => {
  const port = await freePort();
  const lost = await startApp(new SessiondStore({ clientOptions: { target: `127.0.0.1:${port}`, timeoutMs: 500 } }));
  try {
    const browser = new Browser(lost.base);
    // A returning browser: express-session asks the store for its session.
    browser.cookie = signedCookie("Returning_" + "r".repeat(22));
    let started = Date.now();
    let response = await browser.request("GET", "/me");
    assert.equal(response.status, 500);
    assert.match(response.body.error, /UNAVAILABLE|DEADLINE_EXCEEDED/);
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
    // A new one: the write fails, and the route's save reports it.
    browser.cookie = null;
    started = Date.now();
    response = await browser.request("POST", "/value", { a: 1 });
    assert.equal(response.status, 500);
    assert.match(response.body.error, /UNAVAILABLE|DEADLINE_EXCEEDED/);
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
  } finally {
    await lost.stop();
  }
});
