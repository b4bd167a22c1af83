#!/usr/bin/env bash
# Side-by-side benchmark of sessiond (issue 7, BENCHMARKS.md): against the
# ceiling of its own stack (an empty tonic RPC, a hyper hello-world served
# with the same settings) and against Redis, in one run, with each server
# pinned to one core and the load generator to another. Prints a table of
# ratios with the absolute numbers beside them; logs go to target/bench/.
#
#   bench/compare.sh                   # the full run (about 5 minutes)
#   ROUNDS=1 EXPIRE_SESSIONS=200000 EXPIRE_IN=30s bench/compare.sh   # quicker
#   ROWS="1 4" bench/compare.sh        # only the loads rows 1 and 4 need
#
# BIN=dir runs the binaries in dir instead of building them, OUT=dir logs
# there instead, and NO_REDIS=1 leaves Redis out (row 5 then measures
# sessiond's side only): bench/before-after.sh drives it so.
#
# Needs: cargo; redis-server, redis-tools and wrk (installed with apt-get
# when missing, which needs root). Loopback only; every load stops itself.
set -euo pipefail
cd "$(dirname "$0")/.."

SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
DURATION=${DURATION:-5s}          # per load, per round
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-4}     # HTTP/2 or multiplexed Redis connections
CONCURRENCY=${CONCURRENCY:-16}    # requests in flight on each
HTTP_CONNECTIONS=${HTTP_CONNECTIONS:-64}
SESSIONS=${SESSIONS:-10000}       # live sessions the loads read
VALUE=${VALUE:-100}               # bytes of data per session
EXPIRE_SESSIONS=${EXPIRE_SESSIONS:-1000000}
EXPIRE_IN=${EXPIRE_IN:-75s}
REDIS_REQUESTS=${REDIS_REQUESTS:-1000000}
ROWS=${ROWS:-1 2 3 4 5 6}         # which rows of the table to measure
IN_FLIGHT=$((CONNECTIONS * CONCURRENCY))

# want <row>...: whether any of these rows is to be measured.
want() {
    local r
    for r in "$@"; do [[ " $ROWS " == *" $r "* ]] && return 0; done
    return 1
}

out=${OUT:-target/bench}
mkdir -p "$out"
rm -f "$out"/*.log

missing=()
if [ -z "${NO_REDIS:-}" ]; then
    command -v redis-server >/dev/null || missing+=(redis-server)
    command -v redis-benchmark >/dev/null || missing+=(redis-tools)
fi
want 3 && { command -v wrk >/dev/null || missing+=(wrk); }
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}" >&2
    apt-get install -y "${missing[@]}" >/dev/null 2>&1 || {
        apt-get update >/dev/null && apt-get install -y "${missing[@]}" >/dev/null
    }
fi

bin=${BIN:-target/release}
if [ -z "${BIN:-}" ]; then
    nice cargo build --release --features bench --bin sessiond --bin sessiond-bench >&2
fi
# taskset execs the command, so $! of a backgrounded "${server[@]}" is the
# server's own pid (a shell function would put a subshell in between).
server=(taskset -c "$SERVER_CPU")
client() { taskset -c "$CLIENT_CPU" "$@"; }

. bench/lib.sh
stop() { kill "$1"; wait "$1" 2>/dev/null || true; }

# value <log> <label> <key>: a field of a RESULT line.
value() {
    grep "^RESULT label=$2 " "$1" | tail -1 | tr ' ' '\n' | sed -n "s/^$3=//p"
}
window=(--duration "$DURATION" --warmup 2s)
grpc_load=(--connections "$CONNECTIONS" --concurrency "$CONCURRENCY" --sessions "$SESSIONS" --value-size "$VALUE")

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/load.log" >&2

if want 1 2 3 4; then
# 1.-3. The ceilings and sessiond side by side. All three servers run at
# once on the server core (an idle one costs nothing) and the loads
# alternate, round after round, so that drift from other work on the
# machine hits both sides of a ratio alike; the table takes the median.
"${server[@]}" "$bin/sessiond-bench" serve-empty --addr 127.0.0.1:50061 >"$out/empty-server.log" 2>&1 &
empty_pid=$!; pids+=("$empty_pid")
"${server[@]}" "$bin/sessiond" --grpc-addr 127.0.0.1:50062 --http-addr 127.0.0.1:8082 \
    --admin-addr 127.0.0.1:9092 --drain-delay 0s --max-sessions 3000000 --cookie-secure false \
    >"$out/sessiond-server.log" 2>&1 &
sessiond_pid=$!; pids+=("$sessiond_pid")
"${server[@]}" "$bin/sessiond-bench" serve-hello --addr 127.0.0.1:8083 >"$out/hello-server.log" 2>&1 &
hello_pid=$!; pids+=("$hello_pid")
# Row 3's split: the hello-world answering with the gateway's response.
"${server[@]}" "$bin/sessiond-bench" serve-hello --addr 127.0.0.1:8084 --gateway-response \
    >"$out/hello-gw-server.log" 2>&1 &
hello_gw_pid=$!; pids+=("$hello_gw_pid")
for port in 50061 50062 8082 9092 8083 8084; do wait_port "$port"; done
cookie=$(curl -s -o /dev/null -D - -X POST -H 'Content-Type: application/json' \
    -d '{"user":"wrk"}' http://127.0.0.1:8082/session | sed -n 's/^set-cookie: \([^;]*\).*/\1/ip')
for round in $(seq "$ROUNDS"); do
    if want 1; then
        client "$bin/sessiond-bench" grpc --addr 127.0.0.1:50061 --mix empty "${grpc_load[@]}" \
            "${window[@]}" --server-pid "$empty_pid" >"$out/empty.$round.log"
    fi
    client "$bin/sessiond-bench" grpc --addr 127.0.0.1:50062 --mix get "${grpc_load[@]}" \
        "${window[@]}" --server-pid "$sessiond_pid" >"$out/get.$round.log"
    if want 4; then
        # 4c-4e: the same Gets on sessiond's Pipeline stream, one per
        # connection, alternating with the unary ones.
        client "$bin/sessiond-bench" pipeline --addr 127.0.0.1:50062 "${grpc_load[@]}" \
            "${window[@]}" --server-pid "$sessiond_pid" >"$out/pipeline.$round.log"
    fi
    if want 2; then
        client "$bin/sessiond-bench" grpc --addr 127.0.0.1:50062 --mix set "${grpc_load[@]}" \
            "${window[@]}" --server-pid "$sessiond_pid" >"$out/set.$round.log"
    fi
    if want 3; then
        client "$bin/sessiond-bench" http --addr 127.0.0.1:8082 --connections "$HTTP_CONNECTIONS" \
            --value-size "$VALUE" "${window[@]}" --server-pid "$sessiond_pid" >"$out/gateway.$round.log"
        client "$bin/sessiond-bench" http --addr 127.0.0.1:8083 --connections "$HTTP_CONNECTIONS" \
            --value-size "$VALUE" "${window[@]}" --server-pid "$hello_pid" >"$out/hello.$round.log"
        client wrk -t1 -c"$HTTP_CONNECTIONS" -d"$DURATION" -H "Cookie: $cookie" \
            http://127.0.0.1:8082/session >"$out/gateway-wrk.$round.log" 2>&1 || true
        client wrk -t1 -c"$HTTP_CONNECTIONS" -d"$DURATION" -H "Cookie: $cookie" \
            http://127.0.0.1:8083/session >"$out/hello-wrk.$round.log" 2>&1 || true
        client wrk -t1 -c"$HTTP_CONNECTIONS" -d"$DURATION" -H "Cookie: $cookie" \
            http://127.0.0.1:8084/session >"$out/hello-gw-wrk.$round.log" 2>&1 || true
    fi
    cat "$out"/{empty,get,pipeline,set,gateway,hello}."$round".log 2>/dev/null | grep '^RESULT' >&2 || true
done
stop "$empty_pid"; stop "$sessiond_pid"; stop "$hello_pid"; stop "$hello_gw_pid"
fi

if want 5 6; then
# A fresh sessiond for memory and mass expiry, so the loads above leave
# nothing behind in its heap.
"${server[@]}" "$bin/sessiond" --grpc-addr 127.0.0.1:50062 --http-addr 127.0.0.1:8082 \
    --admin-addr 127.0.0.1:9092 --drain-delay 0s --max-sessions 3000000 \
    >"$out/sessiond-expiry-server.log" 2>&1 &
pid=$!; pids+=("$pid"); wait_port 50062; wait_port 9092
client "$bin/sessiond-bench" expiry --addr 127.0.0.1:50062 --admin-addr 127.0.0.1:9092 \
    --server-pid "$pid" --sessions "$EXPIRE_SESSIONS" --value-size "$VALUE" \
    --connections "$CONNECTIONS" --concurrency "$CONCURRENCY" --expire-in "$EXPIRE_IN" \
    | tee "$out/expiry.log" >&2
stop "$pid"
fi

if want 4 5 && [ -z "${NO_REDIS:-}" ]; then
# 4./5. Redis: redis-benchmark, the redis crate, and memory for the same
# SETEX, on the server core.
"${server[@]}" redis-server --port 6390 --save '' --appendonly no --bind 127.0.0.1 \
    >"$out/redis-server.log" 2>&1 &
pid=$!; pids+=("$pid"); wait_port 6390
if want 4; then
    client redis-benchmark -p 6390 -t set,get -n "$REDIS_REQUESTS" -c "$IN_FLIGHT" -d "$VALUE" \
        -r "$SESSIONS" --csv >"$out/redis-benchmark.log" 2>&1
    for round in $(seq "$ROUNDS"); do
        client "$bin/sessiond-bench" redis --url redis://127.0.0.1:6390/ "${grpc_load[@]}" \
            "${window[@]}" --server-pid "$pid" >"$out/redis.$round.log"
        grep -h '^RESULT' "$out"/redis."$round".log >&2
    done
fi
if want 5; then
    redis-cli -p 6390 flushall >/dev/null
    client "$bin/sessiond-bench" redis-fill --url redis://127.0.0.1:6390/ \
        --sessions "$EXPIRE_SESSIONS" --value-size "$VALUE" | tee "$out/redis-fill.log" >&2
fi
stop "$pid"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/load.log" >&2

# The table: medians over the rounds.
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "nan") }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
# across <name> <label> <key>: the median of a RESULT field over the rounds.
across() {
    for r in $(seq "$ROUNDS"); do value "$out/$1.$r.log" "$2" "$3"; done | median
}
# ratios <num> <num-label> <den> <den-label>: "median (min-max)" of per-round ratios.
ratios() {
    local all
    all=$(for r in $(seq "$ROUNDS"); do
        ratio "$(value "$out/$1.$r.log" "$2" ops_per_s)" "$(value "$out/$3.$r.log" "$4" ops_per_s)"
        echo
    done | sort -g)
    echo "$(echo "$all" | median) ($(echo "$all" | head -1)–$(echo "$all" | tail -1))"
}
wrk_rps() { sed -n 's/^Requests\/sec: *//p' "$1"; }
# wrk_ratios <num> <den>: "median (min-max)" of per-round req/s ratios.
wrk_ratios() {
    local all
    all=$(for r in $(seq "$ROUNDS"); do
        ratio "$(wrk_rps "$out/$1-wrk.$r.log")" "$(wrk_rps "$out/$2-wrk.$r.log")"
        echo
    done | sort -g)
    echo "$(echo "$all" | median) ($(echo "$all" | head -1)–$(echo "$all" | tail -1))"
}
wrk_median() { for r in $(seq "$ROUNDS"); do wrk_rps "$out/$1-wrk.$r.log"; done | median; }
G=GET_/session
{
echo
echo "| # | ratio | target | measured | absolute |"
echo "| --- | --- | --- | --- | --- |"
if want 1; then
    echo "| 1 | Get ÷ empty RPC (ops/s) | ≥ 0.90 | $(ratios get get empty empty) | Get $(across get get ops_per_s)/s (p99 $(across get get p99_us) µs; CPU/call server $(across get get server_cpu_us) µs, client $(across get get client_cpu_us) µs); empty $(across empty empty ops_per_s)/s (p99 $(across empty empty p99_us) µs; CPU/call server $(across empty empty server_cpu_us) µs, client $(across empty empty client_cpu_us) µs) |"
fi
if want 2; then
    echo "| 2 | Set ÷ Get (ops/s) | ≥ 0.85 | $(ratios set set get get) | Set $(across set set ops_per_s)/s (p99 $(across set set p99_us) µs; server $(across set set server_cpu_us) µs CPU/call) |"
fi
if want 3; then
    echo "| 3 | gateway GET /session ÷ hello-world (req/s), wrk | ≥ 0.80 | $(wrk_ratios gateway hello) | wrk: gateway $(wrk_median gateway)/s, hello $(wrk_median hello)/s |"
    echo "| 3a | of which the response: hello-world answering the gateway's headers and body ÷ hello-world | | $(wrk_ratios hello-gw hello) | wrk: $(wrk_median hello-gw)/s |"
    echo "| 3b | of which the handler: gateway ÷ hello-world answering its headers and body | | $(wrk_ratios gateway hello-gw) | |"
    echo "| 3' | the same with sessiond-bench http | ≥ 0.80 | $(ratios gateway $G hello $G) | gateway $(across gateway $G ops_per_s)/s (p99 $(across gateway $G p99_us) µs; server $(across gateway $G server_cpu_us) µs CPU/call); hello $(across hello $G ops_per_s)/s (server $(across hello $G server_cpu_us) µs, client $(across hello $G client_cpu_us) µs CPU/call) |"
fi
if want 4; then
    get=$(across get get ops_per_s)
    redis_rust=$(across redis redis_GET ops_per_s)
    rb=$(grep '^"GET"' "$out/redis-benchmark.log" | tr -d '"' | cut -d, -f2)
    rb_p99=$(grep '^"GET"' "$out/redis-benchmark.log" | tr -d '"' | cut -d, -f7)
    piped=$(across pipeline pipeline_get ops_per_s)
    echo "| 4a | sessiond Get ÷ Redis GET, Rust clients (ops/s) | ≥ 1.00 | $(ratio "$get" "$redis_rust") | Redis GET $redis_rust/s, p99 $(across redis redis_GET p99_us) µs (sessiond Get p99 $(across get get p99_us) µs); Redis CPU $(across redis redis_GET server_cpu_us) µs/call |"
    echo "| 4b | sessiond Get ÷ redis-benchmark GET (ops/s) | ≥ 1.00 | $(ratio "$get" "$rb") | redis-benchmark GET $rb/s, p99 $rb_p99 ms, $IN_FLIGHT clients |"
    echo "| 4c | sessiond Get on a Pipeline stream ÷ Redis GET, Rust clients (ops/s) | ≥ 1.00 | $(ratio "$piped" "$redis_rust") | Pipeline Get $piped/s (p99 $(across pipeline pipeline_get p99_us) µs; CPU/call server $(across pipeline pipeline_get server_cpu_us) µs, client $(across pipeline pipeline_get client_cpu_us) µs); Redis GET $redis_rust/s (p99 $(across redis redis_GET p99_us) µs; server $(across redis redis_GET server_cpu_us) µs/call) |"
    echo "| 4d | sessiond Get on a Pipeline stream ÷ redis-benchmark GET (ops/s) | ≥ 1.00 | $(ratio "$piped" "$rb") | redis-benchmark GET $rb/s, $IN_FLIGHT clients |"
    echo "| 4e | sessiond Get on a Pipeline stream ÷ unary Get (ops/s) | | $(ratios pipeline pipeline_get get get) | unary Get $get/s (p99 $(across get get p99_us) µs; server $(across get get server_cpu_us) µs CPU/call) |"
fi
if want 5; then
    mem_sd=$(value "$out/expiry.log" sessiond_memory bytes_per_session)
    mem_redis=$(value "$out/redis-fill.log" redis_memory bytes_per_session 2>/dev/null || true)
    echo "| 5 | memory per session: sessiond RSS ÷ Redis used_memory | ≤ 1.00 | $(ratio "$mem_sd" "$mem_redis") | sessiond $mem_sd B/session (RSS), Redis $mem_redis B/session (used_memory; RSS $(value "$out/redis-fill.log" redis_memory rss_bytes_per_session) B), $EXPIRE_SESSIONS sessions of $VALUE B |"
fi
if want 6; then
    echo "| 6 | Get p99.9 while $EXPIRE_SESSIONS expire ÷ steady | ≤ 2.00 | $(value "$out/expiry.log" expiry p999_ratio) | $(value "$out/expiry.log" expiry during_p999_us) µs vs $(value "$out/expiry.log" expiry steady_p999_us) µs; reclaimed in $(value "$out/expiry.log" expiry reclaimed_s) s; RSS back to base (+10% of growth) in $(value "$out/expiry.log" expiry memory_back_s) s |"
fi
echo
echo "Rows 1-3 and 4a/4c/4e: median (min–max) of $ROUNDS alternating rounds of $DURATION per load; absolute figures are medians. $IN_FLIGHT requests in flight ($CONNECTIONS connections x $CONCURRENCY) for gRPC and Redis, $HTTP_CONNECTIONS HTTP/1.1 connections; server on CPU $SERVER_CPU, client on CPU $CLIENT_CPU; $(tr '\n' ';' <"$out/load.log")"
} | tee "$out/table.md"
