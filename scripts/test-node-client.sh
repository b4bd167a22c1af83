#!/usr/bin/env bash
# Tests the Node client (clients/node) against a real sessiond: installs its
# dependencies from the committed lockfile (npm ci), checks that the
# generated code matches proto/, builds the ESM and CJS outputs with their
# .d.ts (tsc, strict), then runs the node:test suites: the client, the
# express-session store's lifecycle, an express app driven over HTTP, and
# the lost-update comparison with connect-redis on a real redis-server;
# then the express example (examples/express) end to end. Each suite starts
# its own sessiond (and redis-server) on free ports.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq nodejs npm >/dev/null
fi
# The TLS tests make their certificates with openssl.
if ! command -v openssl >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq openssl >/dev/null
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 18 ]; then
    echo "the Node client needs Node >= 18, found $(node --version)" >&2
    exit 1
fi

CARGO_INCREMENTAL=0 cargo build --bin sessiond
export SESSIOND_BIN="$PWD/target/debug/sessiond"

cd clients/node
npm ci --no-audit --no-fund --loglevel=error
node scripts/generate.mjs --check
npm run build
node --test test/*.test.mjs

cd ../../examples/express
npm ci --no-audit --no-fund --loglevel=error
node --test test.mjs
