// The Node client alone: Get of one session in a loop from CONCURRENCY
// callers for SECONDS (after a second of warm-up), on the Pipeline stream
// (`stream`) or unary (`unary`, the Client's `multiplex: false`); prints
// calls/s and the process's CPU per call. Against a sessiond started with
// --insecure-no-auth:
//
//   node bench/express/client-get.mjs 127.0.0.1:50051 stream 3 32
//   node bench/express/client-get.mjs 127.0.0.1:50051 unary 3 32
import { Client } from "../../clients/node/dist/esm/index.js";
const [target, mode, seconds = "3", conc = "32"] = process.argv.slice(2);
const client = new Client({ target, multiplex: mode === "stream" });
const { id } = await client.create({ a: 1, b: "x".repeat(50) });
async function run(ms) {
  let n = 0; const end = Date.now() + ms;
  await Promise.all(Array.from({ length: Number(conc) }, async () => { while (Date.now() < end) { await client.get(id); n++; } }));
  return n;
}
await run(1000);
const c0 = process.cpuUsage(); const t0 = Date.now();
const n = await run(Number(seconds) * 1000);
const c = process.cpuUsage(c0); const el = (Date.now() - t0) / 1000;
console.log(JSON.stringify({ mode, conc: Number(conc), calls_per_s: Math.round(n / el), cpu_us_per_call: +((c.user + c.system) / n).toFixed(1) }));
client.close();
