#!/usr/bin/env bash
# The Rust client (issue 19, BENCHMARKS.md "The Rust client"): Get through
# sessiond-client's Pipeline handle ÷ GET through the redis crate's
# multiplexed connection (N1), a near-cache hit ÷ that GET (N2), and the time
# from a Flush on one client to the eviction in another client's near cache
# (N3). The servers (sessiond, in memory, and redis-server) share the server
# core, the load generator has the other, as in bench/compare.sh.
#
#   bench/rust-client.sh                   # 3 rounds of 5 s per load
#   ROUNDS=1 SECONDS_EACH=2 bench/rust-client.sh
#
# BIN=dir runs the binaries in dir (sessiond, and examples/bench) instead of
# building them; logs go to target/bench-rust-client/ (OUT=dir). Needs
# redis-server (installed with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
ROUNDS=${ROUNDS:-3}
SECONDS_EACH=${SECONDS_EACH:-5}
CONCURRENCY=${CONCURRENCY:-64}
SESSIONS=${SESSIONS:-10000}
FLUSHES=${FLUSHES:-2000}

out=${OUT:-target/bench-rust-client}
mkdir -p "$out"

if ! command -v redis-server >/dev/null; then
    apt-get install -y redis-server >/dev/null 2>&1 || {
        apt-get update >/dev/null && apt-get install -y redis-server >/dev/null
    }
fi
if [ -z "${BIN:-}" ]; then
    nice cargo build --release --bin sessiond -p sessiond >&2
    nice cargo build --release -p sessiond-client --example bench >&2
    sessiond=target/release/sessiond
    bench=target/release/examples/bench
else
    sessiond=$BIN/sessiond
    bench=$BIN/bench
fi

. bench/lib.sh

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/load.log"
taskset -c "$SERVER_CPU" redis-server --port 6393 --save '' --appendonly no \
    --bind 127.0.0.1 >"$out/redis-server.log" 2>&1 &
pids+=($!)
taskset -c "$SERVER_CPU" "$sessiond" --grpc-addr 127.0.0.1:50073 \
    --http-addr 127.0.0.1:8093 --admin-addr 127.0.0.1:9094 --drain-delay 0s \
    >"$out/sessiond.log" 2>&1 &
pids+=($!)
wait_port 6393
wait_port 50073
taskset -c "$CLIENT_CPU" "$bench" --sessiond http://127.0.0.1:50073 \
    --redis redis://127.0.0.1:6393 --concurrency "$CONCURRENCY" \
    --sessions "$SESSIONS" --seconds "$SECONDS_EACH" --rounds "$ROUNDS" \
    --flushes "$FLUSHES" | tee "$out/bench.log"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/load.log"
echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with changes)')"
