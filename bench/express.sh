#!/usr/bin/env bash
# express-session on sessiond ÷ on connect-redis (issue 17, BENCHMARKS.md
# "express-session"): the same express route (read the session, change one
# key: a store get and a store set per request) with SessiondStore against
# a release sessiond (in memory) and with connect-redis against a local
# redis-server, driven by autocannon at the same connections, in
# alternating rounds, one session per connection. Prints one JSON line per
# round and a summary (requests/s, p50, p99, the ratio).
#
#   bench/express.sh                         # 3 rounds of 10 s, 16 connections
#   ROUNDS=1 SECONDS=5 bench/express.sh      # quicker
#   APP_CPU=0 taskset -c 1 bench/express.sh  # the apps on a core of their own
#
# BIN=dir runs the sessiond in dir instead of building it. Needs Node >= 18
# and redis-server; the Node packages come from clients/node (npm ci).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${BIN:-target/release}
if [ -z "${BIN:-}" ]; then
    nice cargo build --release --bin sessiond >&2
fi
(cd clients/node && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; } && npm run build >/dev/null)

out=${OUT:-target/bench-express}
mkdir -p "$out"
. bench/lib.sh
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

token=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$token" | "$bin/sessiond" hash-token express > "$out/tokens"
grpc=$(free_port)
SESSIOND_LOG_FORMAT=json "$bin/sessiond" --grpc-addr "127.0.0.1:$grpc" --http-addr 127.0.0.1:0 \
    --admin-addr 127.0.0.1:0 --tokens-file "$out/tokens" --client-id-namespaces express \
    2>"$out/sessiond.log" &
pids+=($!)
redis=$(free_port)
redis-server --port "$redis" --bind 127.0.0.1 --save "" --appendonly no >"$out/redis.log" &
pids+=($!)
wait_port "$grpc"
wait_port "$redis"

node bench/express/run.mjs "127.0.0.1:$grpc" "$token" "redis://127.0.0.1:$redis"
