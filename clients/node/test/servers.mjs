// Real servers for the tests: sessiond (the binary as a child process on
// free loopback ports, its addresses read from its "sessiond serving" log
// line, as clients/python/tests/server.py does) and redis-server.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export function binary() {
  const path = process.env.SESSIOND_BIN || join(REPO, "target", "debug", "sessiond");
  accessSync(path, constants.X_OK);
  return path;
}

/** Runs sessiond with `args` on ephemeral listeners; resolves once it serves. */
export async function sessiond(...args) {
  // A test that restarts sessiond passes the --grpc-addr to serve on again.
  const grpcAddr = args.includes("--grpc-addr") ? [] : ["--grpc-addr", "127.0.0.1:0"];
  const child = spawn(
    binary(),
    [
      ...grpcAddr,
      "--http-addr", "127.0.0.1:0",
      "--admin-addr", "127.0.0.1:0",
      "--drain-delay", "0s",
      "--log-format", "json",
      ...args,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const lines = createInterface({ input: child.stderr });
  const serving = await new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`sessiond exited with ${code} before serving`)));
    lines.on("line", (line) => {
      try {
        const event = JSON.parse(line);
        const fields = event.fields ?? event;
        if (fields.message === "sessiond serving") resolve(fields);
      } catch {
        // not a log event
      }
    });
  });
  child.removeAllListeners("exit");
  return {
    grpcAddr: serving.grpc_addr,
    httpAddr: serving.http_addr,
    adminAddr: serving.admin_addr,
    freeze: () => freeze(child),
    thaw: () => child.kill("SIGCONT"),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGCONT");
      child.kill("SIGTERM");
      await exited;
    },
    /** Kills it at once (SIGKILL), as a crash would. */
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Stops `child` (SIGSTOP) and resolves once every thread of it is
 * stopped: the kernel stops a running thread only when it next enters it.
 * `child.kill("SIGCONT")` lets it run again. */
async function freeze(child) {
  child.kill("SIGSTOP");
  const stopped = () =>
    readdirSync(`/proc/${child.pid}/task`).every((task) => {
      const state = readFileSync(`/proc/${child.pid}/task/${task}/stat`, "utf8").split(") ")[1][0];
      return state === "T" || state === "t";
    });
  while (!stopped()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** A tokens file with a fresh token per [namespace, readOnly]; the path and tokens. */
export function tokensFile(entries) {
  const dir = mkdtempSync(join(tmpdir(), "sessiond-tokens-"));
  const tokens = [];
  const lines = [];
  for (const [namespace, readOnly] of entries) {
    const token = randomBytes(32).toString("hex");
    const args = ["hash-token", namespace, ...(readOnly ? ["--read-only"] : [])];
    lines.push(execFileSync(binary(), args, { input: token + "\n" }).toString().trim());
    tokens.push(token);
  }
  const path = join(dir, "tokens");
  writeFileSync(path, lines.join("\n") + "\n");
  return { path, tokens };
}

/** sessiond with a read-write and a read-only token of `express`, which
 * chooses its ids, and a token of `other`, which does not. */
export async function sessiondForExpress(...args) {
  const { path, tokens } = tokensFile([["express", false], ["express", true], ["other", false]]);
  const server = await sessiond("--tokens-file", path, "--client-id-namespaces", "express", ...args);
  const [token, readOnlyToken, otherToken] = tokens;
  return { ...server, token, readOnlyToken, otherToken };
}

/** A port no one listens on now. */
export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** redis-server on a free loopback port, nothing persisted. */
export async function redisServer() {
  const port = await freePort();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: child.stdout });
  await new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`redis-server exited with ${code}`)));
    lines.on("line", (line) => {
      if (line.includes("Ready to accept connections")) resolve();
    });
  });
  child.removeAllListeners("exit");
  child.stdout.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    freeze: () => freeze(child),
    thaw: () => child.kill("SIGCONT"),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** A CA, a server certificate for `localhost` only (so a client must name
 * it with tlsServerName to reach 127.0.0.1), and a client certificate, made
 * with openssl in a fresh directory; their paths. */
export function certificates() {
  const dir = mkdtempSync(join(tmpdir(), "sessiond-tls-"));
  const at = (name) => join(dir, name);
  const openssl = (...args) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl("req", "-x509", ...key, "-keyout", at("ca.key"), "-out", at("ca.pem"), "-days", "2", "-subj", "/CN=sessiond test CA");
  for (const [name, ext] of [
    ["server", "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n"],
    ["client", "subjectAltName=DNS:app.clients.example\nextendedKeyUsage=clientAuth\n"],
  ]) {
    writeFileSync(at(`${name}.ext`), ext);
    openssl("req", ...key, "-keyout", at(`${name}.key`), "-out", at(`${name}.csr`), "-subj", `/CN=${name}`);
    openssl(
      "x509", "-req", "-in", at(`${name}.csr`), "-CA", at("ca.pem"), "-CAkey", at("ca.key"),
      "-CAcreateserial", "-out", at(`${name}.pem`), "-days", "2", "-extfile", at(`${name}.ext`),
    );
  }
  return {
    ca: at("ca.pem"),
    serverCert: at("server.pem"),
    serverKey: at("server.key"),
    clientCert: at("client.pem"),
    clientKey: at("client.key"),
  };
}
