// One express app for the benchmark, on the store named by argv[2]
// ("sessiond" or "redis"): GET /hit reads the session and changes one key
// (express-session: a store get and a store set per request), GET /login
// makes a session. Prints "listening <port>" once it listens.
import { createRequire } from "node:module";

const require = createRequire(new URL("../../clients/node/package.json", import.meta.url));
const express = require("express");
const session = require("express-session");

const [, , which, target, token] = process.argv;
let store;
if (which === "sessiond") {
  const { SessiondStore } = await import("../../clients/node/dist/esm/index.js");
  store = new SessiondStore({ clientOptions: { target, token } });
} else {
  const { RedisStore } = require("connect-redis");
  const { createClient } = require("redis");
  const client = createClient({ url: target });
  await client.connect();
  store = new RedisStore({ client });
}

const app = express();
app.use(
  session({ store, secret: "bench", resave: false, saveUninitialized: false, cookie: { maxAge: 3_600_000 } }),
);
app.get("/login", (req, res) => {
  req.session.user = "bench";
  req.session.n = 0;
  res.send("ok");
});
app.get("/hit", (req, res) => {
  req.session.n = (req.session.n ?? 0) + 1;
  res.send("ok");
});
const server = app.listen(0, "127.0.0.1", () => console.log(`listening ${server.address().port}`));
