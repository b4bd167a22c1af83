#!/usr/bin/env bash
# sessiond on Redis (issue 15, BENCHMARKS.md "sessiond on Redis"): Get
# through sessiond --backend redis (on Pipeline streams, and unary) against
# redis-benchmark GET of a 100-byte value at the same number of requests in
# flight, and against sessiond in
# memory; server CPU per call of each process; bytes in Redis per session
# against a plain SETEX. The servers (redis-server and sessiond) share the
# server core, the load generator has the other, as in bench/compare.sh.
#
#   bench/redis.sh                     # 3 rounds of 5 s per load
#   ROUNDS=1 FILL=50000 bench/redis.sh # quicker
#   REDIS_ARGS="--hash-max-listpack-value 1024" bench/redis.sh
#
# BIN=dir runs the binaries in dir instead of building them; logs go to
# target/bench-redis/ (OUT=dir). Needs redis-server and redis-tools
# (installed with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
DURATION=${DURATION:-5s}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-4}
CONCURRENCY=${CONCURRENCY:-16}
SESSIONS=${SESSIONS:-10000}
VALUE=${VALUE:-100}
FILL=${FILL:-200000}              # sessions for the memory row
REDIS_REQUESTS=${REDIS_REQUESTS:-300000}  # a round's GETs (and SETs first)
IN_FLIGHT=$((CONNECTIONS * CONCURRENCY))

out=${OUT:-target/bench-redis}
mkdir -p "$out"
rm -f "$out"/*.log

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v redis-benchmark >/dev/null || missing+=(redis-tools)
if [ ${#missing[@]} -gt 0 ]; then
    apt-get install -y "${missing[@]}" >/dev/null 2>&1 || {
        apt-get update >/dev/null && apt-get install -y "${missing[@]}" >/dev/null
    }
fi

bin=${BIN:-target/release}
if [ -z "${BIN:-}" ]; then
    nice cargo build --release --features bench --bin sessiond --bin sessiond-bench >&2
fi
server=(taskset -c "$SERVER_CPU")
client() { taskset -c "$CLIENT_CPU" "$@"; }

. bench/lib.sh
stop() { kill "$1"; wait "$1" 2>/dev/null || true; }
value() {
    grep "^RESULT label=$2 " "$1" | tail -1 | tr ' ' '\n' | sed -n "s/^$3=//p"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "nan") }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
across() { for r in $(seq "$ROUNDS"); do value "$out/$1.$r.log" "$2" "$3"; done | median; }
used_memory() { redis-cli -p 6391 info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p'; }
window=(--duration "$DURATION" --warmup 2s)
grpc_load=(--connections "$CONNECTIONS" --concurrency "$CONCURRENCY" --sessions "$SESSIONS" --value-size "$VALUE")

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/load.log" >&2
# REDIS_ARGS: more redis-server flags, e.g. "--hash-max-listpack-value 1024".
# shellcheck disable=SC2086
"${server[@]}" redis-server --port 6391 --save '' --appendonly no --bind 127.0.0.1 ${REDIS_ARGS:-} \
    >"$out/redis-server.log" 2>&1 &
redis_pid=$!; pids+=("$redis_pid"); wait_port 6391
"${server[@]}" "$bin/sessiond" --backend redis --redis-url redis://127.0.0.1:6391 \
    --grpc-addr 127.0.0.1:50071 --http-addr 127.0.0.1:8091 --admin-addr 127.0.0.1:9093 \
    --drain-delay 0s >"$out/sessiond-redis-server.log" 2>&1 &
on_redis_pid=$!; pids+=("$on_redis_pid")
"${server[@]}" "$bin/sessiond" --grpc-addr 127.0.0.1:50072 --http-addr 127.0.0.1:8092 \
    --admin-addr 127.0.0.1:9094 --drain-delay 0s >"$out/sessiond-memory-server.log" 2>&1 &
memory_pid=$!; pids+=("$memory_pid")
for port in 50071 50072; do wait_port "$port"; done

for round in $(seq "$ROUNDS"); do
    # redis-benchmark GET of 100-byte values at the same in-flight count,
    # in every round beside the others, so that drift hits each alike.
    client redis-benchmark -p 6391 -t set,get -n "$REDIS_REQUESTS" -c "$IN_FLIGHT" -d "$VALUE" \
        -r "$SESSIONS" --csv >"$out/redis-benchmark.$round.log" 2>&1
    redis-cli -p 6391 flushall >/dev/null
    client "$bin/sessiond-bench" grpc --addr 127.0.0.1:50071 --mix get "${grpc_load[@]}" \
        "${window[@]}" --server-pid "$on_redis_pid" --backend-pid "$redis_pid" \
        >"$out/on-redis.$round.log"
    client "$bin/sessiond-bench" grpc --addr 127.0.0.1:50072 --mix get "${grpc_load[@]}" \
        "${window[@]}" --server-pid "$memory_pid" >"$out/memory.$round.log"
    client "$bin/sessiond-bench" pipeline --addr 127.0.0.1:50071 "${grpc_load[@]}" \
        "${window[@]}" --server-pid "$on_redis_pid" --backend-pid "$redis_pid" \
        >"$out/on-redis-pipeline.$round.log"
    client "$bin/sessiond-bench" pipeline --addr 127.0.0.1:50072 "${grpc_load[@]}" \
        "${window[@]}" --server-pid "$memory_pid" >"$out/memory-pipeline.$round.log"
    grep -h '^RESULT' "$out"/{on-redis,memory}{,-pipeline}."$round".log >&2
done

# Bytes in Redis per session: FILL sessions of VALUE bytes through sessiond,
# then the same number of plain SETEX of VALUE bytes.
# fill_sessiond LOG: into an empty Redis; sets per_fill (bytes a session)
# and keys_fill (sessions made).
fill_sessiond() {
    redis-cli -p 6391 flushall >/dev/null
    local before after
    before=$(used_memory)
    client "$bin/sessiond-bench" grpc --addr 127.0.0.1:50071 --mix get --connections "$CONNECTIONS" \
        --concurrency "$CONCURRENCY" --sessions "$FILL" --value-size "$VALUE" \
        --duration 1s --warmup 0s >"$out/$1"
    after=$(used_memory)
    keys_fill=$(redis-cli -p 6391 dbsize)
    per_fill=$(( (after - before) / keys_fill ))
}
fill_sessiond fill-sessiond.log
per_session=$per_fill keys_sessiond=$keys_fill
redis-cli -p 6391 flushall >/dev/null
client "$bin/sessiond-bench" redis-fill --url redis://127.0.0.1:6391/ \
    --sessions "$FILL" --value-size "$VALUE" >"$out/fill-setex.log"
per_setex=$(value "$out/fill-setex.log" redis_memory bytes_per_session)
# The same sessions with hash-max-listpack-value 1024 (README, "Running
# more than one sessiond"): hashes whose values are all shorter stay
# listpacks instead of becoming hashtables past 64 bytes.
redis-cli -p 6391 config set hash-max-listpack-value 1024 >/dev/null
fill_sessiond fill-sessiond-listpack.log
per_listpack=$per_fill keys_listpack=$keys_fill
stop "$on_redis_pid"; stop "$memory_pid"; stop "$redis_pid"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/load.log" >&2

# redis-benchmark's CSV: "GET",rps,avg,min,p50,p95,p99,max (ms).
redis_benchmark() {
    for r in $(seq "$ROUNDS"); do
        grep '^"GET"' "$out/redis-benchmark.$r.log" | tr -d '"' | cut -d, -f"$1"
    done | median
}
rb=$(redis_benchmark 2)
rb_p99=$(redis_benchmark 7)
on_redis=$(across on-redis get ops_per_s)
memory=$(across memory get ops_per_s)
on_redis_p=$(across on-redis-pipeline pipeline_get ops_per_s)
memory_p=$(across memory-pipeline pipeline_get ops_per_s)
{
echo "| # | ratio | target | measured | absolute |"
echo "| --- | --- | --- | --- | --- |"
echo "| R1 | sessiond-on-Redis Get on Pipeline streams ÷ redis-benchmark GET (ops/s) | ≥ 0.70 | $(ratio "$on_redis_p" "$rb") | sessiond on Redis $on_redis_p/s (p99 $(across on-redis-pipeline pipeline_get p99_us) µs); redis-benchmark GET $rb/s (p99 $rb_p99 ms), $IN_FLIGHT in flight |"
echo "| R1u | the same with unary Gets | | $(ratio "$on_redis" "$rb") | sessiond on Redis $on_redis/s (p99 $(across on-redis get p99_us) µs) |"
echo "| R2 | sessiond-on-Redis Get ÷ sessiond-in-memory Get (ops/s), Pipeline / unary | | $(ratio "$on_redis_p" "$memory_p") / $(ratio "$on_redis" "$memory") | in memory $memory_p/s / $memory/s (p99 $(across memory-pipeline pipeline_get p99_us) / $(across memory get p99_us) µs) |"
echo "| R3 | server CPU per Get, Pipeline | | | on Redis: sessiond $(across on-redis-pipeline pipeline_get server_cpu_us) µs + redis-server $(across on-redis-pipeline pipeline_get backend_cpu_us) µs; in memory: sessiond $(across memory-pipeline pipeline_get server_cpu_us) µs; client $(across on-redis-pipeline pipeline_get client_cpu_us) µs / $(across memory-pipeline pipeline_get client_cpu_us) µs |"
echo "| R3u | server CPU per Get, unary | | | on Redis: sessiond $(across on-redis get server_cpu_us) µs + redis-server $(across on-redis get backend_cpu_us) µs; in memory: sessiond $(across memory get server_cpu_us) µs; client $(across on-redis get client_cpu_us) µs / $(across memory get client_cpu_us) µs |"
echo "| R4 | bytes in Redis per $VALUE-byte session ÷ plain SETEX | | $(ratio "$per_session" "$per_setex") | $per_session B/session (used_memory, $keys_sessiond sessions); SETEX $per_setex B/key |"
echo "| R4b | the same with hash-max-listpack-value 1024 | | $(ratio "$per_listpack" "$per_setex") | $per_listpack B/session ($keys_listpack sessions) |"
echo
echo "Median of $ROUNDS alternating rounds of $DURATION per load (redis-benchmark: $REDIS_REQUESTS GETs a round); $IN_FLIGHT requests in flight ($CONNECTIONS connections x $CONCURRENCY); servers (redis-server, sessiond) on CPU $SERVER_CPU, client on CPU $CLIENT_CPU; $(tr '\n' ';' <"$out/load.log")"
} | tee "$out/table.md"
