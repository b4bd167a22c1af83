// The example end to end against a real sessiond (started on free ports by
// the Node client's test helpers): visits counted across requests, login
// with a new id (the old one dead), logout deleting the session and cookie.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { Client, SessiondStore, SessionNotFound } from "sessiond";
import { sessiondForExpress } from "../../clients/node/test/servers.mjs";
import { createApp } from "./app.mjs";

let server;
let client;
let listening;
let base;

before(async () => {
  server = await sessiondForExpress();
  client = new Client({ target: server.grpcAddr, token: server.token });
  const app = createApp({ store: new SessiondStore({ client }), secret: "example-test" });
  listening = await new Promise((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  base = `http://127.0.0.1:${listening.address().port}`;
});

after(async () => {
  listening?.closeAllConnections();
  await new Promise((resolve) => listening?.close(resolve) ?? resolve());
  client?.close();
  await server?.stop();
});

let cookie = null;
async function send(method, path, form) {
  const headers = {};
  if (cookie) headers.cookie = cookie;
  if (form) headers["content-type"] = "application/x-www-form-urlencoded";
  const response = await fetch(base + path, {
    method,
    headers,
    body: form ? new URLSearchParams(form).toString() : undefined,
    redirect: "manual",
  });
  const set = response.headers.get("set-cookie");
  if (set) {
    const pair = set.split(";")[0];
    cookie = pair.endsWith("=") ? null : pair;
  }
  return { status: response.status, text: await response.text() };
}

const sid = () => {
  const value = decodeURIComponent(cookie.split("=")[1]);
  return value.slice(2, value.lastIndexOf("."));
};
const visits = (text) => Number(/id="visits">(\d+)</.exec(text)[1]);

test("visits, login, logout", async () => {
  assert.equal(visits((await send("GET", "/")).text), 1);
  assert.equal(visits((await send("GET", "/")).text), 2);
  const anonymous = sid();

  assert.equal((await send("POST", "/login", { user: "yuan" })).status, 303);
  assert.notEqual(sid(), anonymous);
  await assert.rejects(client.get(anonymous), SessionNotFound);
  const page = await send("GET", "/");
  assert.match(page.text, /Logged in as <b>yuan<\/b>/);
  const loggedIn = sid();
  assert.equal((await client.get(loggedIn)).data.user, "yuan");

  assert.equal((await send("POST", "/logout")).status, 303);
  assert.equal(cookie, null);
  await assert.rejects(client.get(loggedIn), SessionNotFound);
  assert.doesNotMatch((await send("GET", "/")).text, /Logged in/);
});
