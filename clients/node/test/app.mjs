// An express + express-session app for the tests, on any store: login
// (with regenerate), values across requests, logout, and two routes that
// change different keys of one session while both requests are in flight.
import { createHmac } from "node:crypto";
import express from "express";
import session from "express-session";

export const SECRET = "sessiond-tests";

/** Starts the app on a free loopback port; `stop()` closes it. */
export async function startApp(store, { barrier = 2 } = {}) {
  const app = express();
  app.use(express.json());
  app.use(
    session({
      store,
      secret: SECRET,
      resave: false,
      saveUninitialized: false,
      rolling: true,
      cookie: { maxAge: 3_600_000, secure: false },
    }),
  );

  app.post("/login", (req, res, next) => {
    const user = req.body.user;
    // A fresh id on login: the old one must not stay alive (fixation).
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.user = user;
      req.session.visits = 0;
      res.json({ ok: true });
    });
  });

  app.get("/me", (req, res) => {
    if (!req.session.user) return res.status(401).json({ user: null });
    req.session.visits += 1;
    res.json({ user: req.session.user, visits: req.session.visits, cart: req.session.cart ?? null, theme: req.session.theme ?? null });
  });

  // Saved before answering, so a store error becomes this response's 500
  // (express-session's own save at the end of a response reports errors
  // only once the response has started).
  app.post("/value", (req, res, next) => {
    Object.assign(req.session, req.body);
    req.session.save((err) => (err ? next(err) : res.json({ ok: true })));
  });

  // Two writers: each waits until `barrier` requests have loaded the
  // session, then changes its own key.
  let waiting = [];
  const together = () =>
    new Promise((resolve) => {
      waiting.push(resolve);
      if (waiting.length >= barrier) {
        waiting.forEach((r) => r());
        waiting = [];
      }
    });
  app.post("/cart", async (req, res) => {
    await together();
    req.session.cart = req.body.cart;
    res.json({ ok: true });
  });
  app.post("/theme", async (req, res) => {
    await together();
    req.session.theme = req.body.theme;
    res.json({ ok: true });
  });

  app.post("/logout", (req, res, next) => {
    req.session.destroy((err) => {
      if (err) return next(err);
      res.clearCookie("connect.sid");
      res.json({ ok: true });
    });
  });

  // Errors become 500s naming the cause, as an app's own handler would.
  app.use((err, req, res, _next) => {
    if (res.headersSent) {
      // express-session's save at the end of a response: too late to answer.
      (app.lateErrors ??= []).push(err);
      return;
    }
    res.status(500).json({ error: String(err.message ?? err) });
  });

  const server = await new Promise((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    base,
    /** Errors that reached the app after its response had started. */
    lateErrors: () => app.lateErrors ?? [],
    async stop() {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The cookie express-session would set for `sid`: signed with SECRET. */
export function signedCookie(sid) {
  const mac = createHmac("sha256", SECRET).update(sid).digest("base64").replace(/=+$/, "");
  return `connect.sid=${encodeURIComponent(`s:${sid}.${mac}`)}`;
}

/** A browser of one: keeps the session cookie between requests. */
export class Browser {
  constructor(base) {
    this.base = base;
    this.cookie = null;
  }

  async request(method, path, body) {
    const headers = { "content-type": "application/json" };
    if (this.cookie) headers.cookie = this.cookie;
    const response = await fetch(this.base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const setCookie = response.headers.get("set-cookie");
    if (setCookie) {
      const pair = setCookie.split(";")[0];
      this.cookie = pair.endsWith("=") ? null : pair;
    }
    return { status: response.status, body: await response.json(), setCookie };
  }

  /** The session id in the cookie (unsigned), for looking at the store. */
  sid() {
    const value = decodeURIComponent(this.cookie.split("=")[1]);
    return value.slice(2, value.lastIndexOf("."));
  }
}
