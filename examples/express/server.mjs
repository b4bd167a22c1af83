// Runs the example: PORT (3000), SESSIOND_TARGET (127.0.0.1:50051),
// SESSIOND_TOKEN or SESSIOND_TOKEN_FILE (a token of a namespace in
// sessiond's --client-id-namespaces), SESSION_SECRET, COOKIE_SECURE.
import { readFileSync } from "node:fs";
import { SessiondStore } from "sessiond";
import { createApp } from "./app.mjs";

const env = process.env;
const token = env.SESSIOND_TOKEN_FILE ? readFileSync(env.SESSIOND_TOKEN_FILE, "utf8").trim() : env.SESSIOND_TOKEN;
const store = new SessiondStore({
  clientOptions: { target: env.SESSIOND_TARGET ?? "127.0.0.1:50051", token, timeoutMs: 2000 },
});
const secret = env.SESSION_SECRET ?? "dev-only-secret: set SESSION_SECRET";
const app = createApp({ store, secret, secureCookie: env.COOKIE_SECURE === "true" });
const port = Number(env.PORT ?? 3000);
const server = app.listen(port, env.HOST ?? "0.0.0.0", () => console.log(`listening on ${port}`));
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => server.close(() => (store.client.close(), process.exit(0))));
}
