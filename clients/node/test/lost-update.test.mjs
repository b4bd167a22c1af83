// The lost update of whole-blob stores, shown against a real redis-server:
// two concurrent requests change different keys of one session. With
// connect-redis, the second write replaces the first's whole object and one
// change is lost; with SessiondStore each writes only its own key.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { RedisStore } from "connect-redis";
import { createClient } from "redis";
import { Client, SessiondStore } from "sessiond";
import { Browser, startApp } from "./app.mjs";
import { redisServer, sessiondForExpress } from "./servers.mjs";

let redis;
let redisClient;
let sessiond;
let client;

before(async () => {
  redis = await redisServer();
  redisClient = createClient({ url: redis.url });
  await redisClient.connect();
  sessiond = await sessiondForExpress();
  client = new Client({ target: sessiond.grpcAddr, token: sessiond.token });
});

after(async () => {
  await redisClient?.quit();
  await redis?.stop();
  client?.close();
  await sessiond?.stop();
});

/** Logs in, then sends /cart and /theme at once; what the session holds after. */
async function concurrentWriters(store) {
  const app = await startApp(store);
  try {
    const browser = new Browser(app.base);
    await browser.request("POST", "/login", { user: "yuan" });
    await Promise.all([
      browser.request("POST", "/cart", { cart: [1] }),
      browser.request("POST", "/theme", { theme: "dark" }),
    ]);
    return (await browser.request("GET", "/me")).body;
  } finally {
    await app.stop();
  }
}

test("connect-redis loses one of two concurrent changes to different keys", async () => {
  const after = await concurrentWriters(new RedisStore({ client: redisClient }));
  const kept = [after.cart !== null, after.theme !== null];
  assert.deepEqual(
    kept.filter(Boolean).length,
    1,
    `connect-redis kept ${JSON.stringify(after)}: expected exactly one of the two changes`,
  );
});

test("SessiondStore keeps both", async () => {
  const after = await concurrentWriters(new SessiondStore({ client }));
  assert.deepEqual(after.cart, [1]);
  assert.equal(after.theme, "dark");
});
