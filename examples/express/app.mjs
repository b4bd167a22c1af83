// The example app: express + express-session with its sessions in
// sessiond (SessiondStore). Log in with any name, count visits, log out.
// `createApp(store)` builds it for the server (server.mjs) and the test.
import express from "express";
import session from "express-session";

const page = (body) => `<!doctype html><meta charset="utf-8"><title>sessiond + express</title>${body}`;
const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function createApp({ store, secret, secureCookie = false }) {
  const app = express();
  app.disable("x-powered-by");
  app.use(express.urlencoded({ extended: false }));
  app.use(
    session({
      store,
      secret,
      name: "sid",
      resave: false,
      saveUninitialized: false,
      rolling: true,
      cookie: { maxAge: 14 * 24 * 3600 * 1000, httpOnly: true, sameSite: "lax", secure: secureCookie },
    }),
  );

  app.get("/", (req, res, next) => {
    req.session.visits = (req.session.visits ?? 0) + 1;
    req.session.save((err) => {
      if (err) return next(err);
      const who = req.session.user
        ? `<p>Logged in as <b>${escape(req.session.user)}</b>.</p>
           <form method="post" action="/logout"><button>Log out</button></form>`
        : `<form method="post" action="/login"><input name="user" placeholder="name" required> <button>Log in</button></form>`;
      res.send(page(`<h1>sessiond + express</h1>${who}<p>Visits in this session: <b id="visits">${req.session.visits}</b></p>`));
    });
  });

  app.post("/login", (req, res, next) => {
    const user = String(req.body.user ?? "").slice(0, 64);
    if (!user) return res.status(400).send(page("<p>A name, please.</p>"));
    // A new id on login (session fixation): the old one is gone at once.
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.user = user;
      req.session.save((err) => (err ? next(err) : res.redirect(303, "/")));
    });
  });

  app.post("/logout", (req, res, next) => {
    req.session.destroy((err) => {
      if (err) return next(err);
      res.clearCookie("sid");
      res.redirect(303, "/");
    });
  });

  app.get("/healthz", (_req, res) => res.send("ok"));

  app.use((err, _req, res, _next) => {
    console.error("request failed:", err.message);
    if (!res.headersSent) res.status(500).send(page("<p>Sessions are unavailable; try again.</p>"));
  });
  return app;
}
