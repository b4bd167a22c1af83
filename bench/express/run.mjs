// The express row of BENCHMARKS.md: the same express route (a session read
// and a one-key write per request) with SessiondStore and with
// connect-redis on a local redis-server, driven by autocannon at the same
// connections, in alternating rounds. Each connection has a session of its
// own. Prints one JSON line per round and a summary line.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";

const require = createRequire(new URL("../../clients/node/package.json", import.meta.url));
const autocannon = require("autocannon");

const [sessiondTarget, token, redisUrl] = process.argv.slice(2);
const connections = Number(process.env.CONNECTIONS ?? 16);
const duration = Number(process.env.SECONDS ?? 10);
const rounds = Number(process.env.ROUNDS ?? 3);

async function startApp(which, target, extra = []) {
  const app = [process.execPath, new URL("./app.mjs", import.meta.url).pathname, which, target, ...extra];
  // APP_CPU pins each app to that CPU (the rest of the run stays where
  // bench/express.sh put it).
  const argv = process.env.APP_CPU ? ["taskset", "-c", process.env.APP_CPU, ...app] : app;
  const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${which} app exited with ${code}`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const m = /^listening (\d+)$/.exec(line);
      if (m) resolve(Number(m[1]));
    });
  });
  child.removeAllListeners("exit");
  const base = `http://127.0.0.1:${port}`;
  // A session per connection.
  const cookies = [];
  for (let i = 0; i < connections; i++) {
    const response = await fetch(`${base}/login`);
    cookies.push(response.headers.get("set-cookie").split(";")[0]);
  }
  return { child, base, cookies };
}

/** CPU seconds (user + system) the process `pid` has used. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function load(app) {
  let next = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `${app.base}/hit`,
        connections,
        duration,
        setupClient: (client) => client.setHeaders({ cookie: app.cookies[next++ % app.cookies.length] }),
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}

const apps = {
  sessiond: await startApp("sessiond", sessiondTarget, [token]),
  redis: await startApp("redis", redisUrl),
};
const results = { sessiond: [], redis: [] };
try {
  for (const which of ["sessiond", "redis"]) await load({ ...apps[which] }); // warm-up
  for (let round = 0; round < rounds; round++) {
    for (const which of round % 2 ? ["redis", "sessiond"] : ["sessiond", "redis"]) {
      const before = cpuSeconds(apps[which].child.pid);
      const r = await load(apps[which]);
      const cpu = cpuSeconds(apps[which].child.pid) - before;
      const row = {
        round,
        store: which,
        rps: r.requests.average,
        p50_ms: r.latency.p50,
        p99_ms: r.latency.p99,
        errors: r.errors + r.non2xx + r.timeouts,
        app_cpu_us_per_req: Math.round((cpu * 1e6) / r.requests.total),
      };
      results[which].push(row);
      console.log(JSON.stringify(row));
    }
  }
} finally {
  for (const app of Object.values(apps)) app.child.kill("SIGTERM");
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ratios = results.sessiond.map((s, i) => s.rps / results.redis[i].rps);
const summary = {
  connections,
  seconds: duration,
  rounds,
  ratio_median: median(ratios),
  ratio_min: Math.min(...ratios),
  ratio_max: Math.max(...ratios),
  sessiond: {
    rps: median(results.sessiond.map((r) => r.rps)),
    p50_ms: median(results.sessiond.map((r) => r.p50_ms)),
    p99_ms: median(results.sessiond.map((r) => r.p99_ms)),
    app_cpu_us_per_req: median(results.sessiond.map((r) => r.app_cpu_us_per_req)),
    errors: results.sessiond.reduce((n, r) => n + r.errors, 0),
  },
  redis: {
    rps: median(results.redis.map((r) => r.rps)),
    p50_ms: median(results.redis.map((r) => r.p50_ms)),
    p99_ms: median(results.redis.map((r) => r.p99_ms)),
    app_cpu_us_per_req: median(results.redis.map((r) => r.app_cpu_us_per_req)),
    errors: results.redis.reduce((n, r) => n + r.errors, 0),
  },
};
console.log(JSON.stringify({ summary }));
