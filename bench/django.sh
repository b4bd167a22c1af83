#!/usr/bin/env bash
# Django session engines side by side (issue 14, BENCHMARKS.md "Django
# session engine"): one Django view that loads, reads and modifies the
# session, served by gunicorn (sync workers) under wrk, with
#
#   (a) sessiond.django               against a local release sessiond
#   (b) contrib.sessions.backends.cache on RedisCache against redis-server
#   (c) contrib.sessions.backends.db  on SQLite
#
# and a micro-benchmark of the Python clients: sessiond.Client.get against
# redis-py GET (sync, one thread), sessiond.aio.Client.get against
# redis.asyncio GET (TASKS concurrent tasks). All servers (sessiond, Redis,
# the three gunicorns) run pinned to SERVER_CPU, every load generator (wrk,
# the micro-benchmark) to CLIENT_CPU. Rounds alternate the loads (a, b, c,
# the four client calls, then again), so that drift from other work on the
# machine hits every side of a ratio alike. Prints the table; logs go to
# target/bench/django/.
#
#   bench/django.sh                     # the full run (about 6 minutes)
#   QUICK=1 bench/django.sh             # one short round: does it all work?
#   ENGINES="cache db" MICRO=0 bench/django.sh   # without the sessiond client
#   PROFILE=1 bench/django.sh           # also py-spy one worker per engine
#
# Needs: cargo, python3 >= 3.10; redis-server and wrk (installed with
# apt-get when missing, which needs root); the Python packages go into a
# venv under target/ with pip. Loopback only; every process it starts is
# stopped when it exits.
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then q_duration=3s q_rounds=1 q_warmup=1s q_micro=2; else
    q_duration=10s q_rounds=5 q_warmup=2s q_micro=5; fi
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
DURATION=${DURATION:-$q_duration}   # wrk, per engine, per round
WARMUP=${WARMUP:-$q_warmup}         # unrecorded wrk run before each one
ROUNDS=${ROUNDS:-$q_rounds}
# wrk connections, one thread each (see bench/django/cookies.lua), each with
# its own session; more than the workers, so that a worker never waits for
# wrk to reconnect (sync workers close the connection after each response).
CONNECTIONS=${CONNECTIONS:-8}
# Gunicorn's advice is 2 x cores + 1: the server core is one, and a sync
# worker blocked on its session store's round trip leaves the core to
# another worker (and to the store, which runs on the same core).
WORKERS=${WORKERS:-3}
ENGINES=${ENGINES:-sessiond cache db}
# Also load /plain, which touches no session, on the first engine's server:
# what gunicorn and Django cost without any session work.
BASELINE=${BASELINE:-1}
MICRO=${MICRO:-1}                   # run the client micro-benchmark
MICRO_DURATION=${MICRO_DURATION:-$q_micro}   # seconds per call, per round
TASKS=${TASKS:-16}                  # concurrent tasks of the aio calls
PROFILE=${PROFILE:-0}               # py-spy one gunicorn worker per engine
PYTHON=${PYTHON:-python3}

out=target/bench/django
venv=target/bench-django/venv
mkdir -p "$out"
rm -f "$out"/*.log "$out"/*.txt "$out"/*.md "$out"/sessions.sqlite3*

# --- tools -----------------------------------------------------------------
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v wrk >/dev/null || missing+=(wrk)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}" >&2
    apt-get install -y "${missing[@]}" >/dev/null 2>&1 || {
        apt-get update >/dev/null && apt-get install -y "${missing[@]}" >/dev/null
    }
fi

needs_client=0
[[ " $ENGINES " == *" sessiond "* || "$MICRO" = 1 ]] && needs_client=1
if [ ! -x "$venv/bin/python" ]; then
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
        { echo "$PYTHON is older than 3.10" >&2; exit 1; }
    "$PYTHON" -m venv "$venv"
    "$venv/bin/pip" install -q --upgrade pip
fi
"$venv/bin/pip" install -q -r bench/django/requirements.txt
if [ "$needs_client" = 1 ]; then
    # A local directory is rebuilt and reinstalled every time, so the run
    # measures the client as it is in the work tree.
    "$venv/bin/pip" install -q "./clients/python[django]"
fi
py=$venv/bin/python

CARGO_INCREMENTAL=0 nice cargo build --release --bin sessiond >&2
bin=target/release

# --- servers, all on SERVER_CPU ----------------------------------------------
# taskset execs the command, so $! is the server's own pid; gunicorn's
# workers inherit the master's affinity.
server=(taskset -c "$SERVER_CPU")
client() { taskset -c "$CLIENT_CPU" "$@"; }

pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# Waits until something listens on 127.0.0.1:$1.
wait_port() {
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on port $1" >&2
    return 1
}

SESSIOND_GRPC=127.0.0.1:50071
REDIS_PORT=6391
REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
declare -A port=([sessiond]=8101 [cache]=8102 [db]=8103)

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/load.txt" >&2

"${server[@]}" "$bin/sessiond" --grpc-addr "$SESSIOND_GRPC" --http-addr 127.0.0.1:8091 \
    --admin-addr 127.0.0.1:9101 --drain-delay 0s >"$out/sessiond-server.log" 2>&1 &
sessiond_pid=$!; pids+=($!)
"${server[@]}" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    >"$out/redis-server.log" 2>&1 &
redis_pid=$!; pids+=($!)
wait_port 50071; wait_port 9101; wait_port "$REDIS_PORT"

# The site's environment: which engine, and where each store is.
site_env=(env DJANGO_SETTINGS_MODULE=benchsite.settings PYTHONPATH=bench/django
    SESSIOND_TARGET="$SESSIOND_GRPC" BENCH_REDIS_URL="$REDIS_URL"
    BENCH_SQLITE="$PWD/$out/sessions.sqlite3")
"${site_env[@]}" BENCH_ENGINE=db "$py" bench/django/manage.py migrate -v0 sessions

declare -A master
for e in $ENGINES; do
    "${server[@]}" "${site_env[@]}" BENCH_ENGINE="$e" "$venv/bin/gunicorn" benchsite.wsgi \
        --worker-class sync --workers "$WORKERS" --bind "127.0.0.1:${port[$e]}" \
        --worker-tmp-dir /dev/shm --log-level warning >"$out/gunicorn.$e.log" 2>&1 &
    master[$e]=$!; pids+=($!)
done
for e in $ENGINES; do wait_port "${port[$e]}"; done

# One session per wrk connection, made through the site as a login would.
for e in $ENGINES; do
    for _ in $(seq "$CONNECTIONS"); do
        curl -sf -o /dev/null -D - "http://127.0.0.1:${port[$e]}/login" |
            sed -n 's/^set-cookie: \(sessionid=[^;]*\).*/\1/ip'
    done >"$out/cookies.$e.txt"
    got=$(grep -c . "$out/cookies.$e.txt" || true)
    [ "$got" = "$CONNECTIONS" ] || { echo "$e: $got cookies of $CONNECTIONS" >&2; exit 1; }
done

# --- the rounds ----------------------------------------------------------------
# ticks <pid>...: user + system CPU time of these processes, in clock ticks.
ticks() {
    local p t=0
    for p in "$@"; do
        t=$((t + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 }')))
    done
    echo "$t"
}
# The loads: one per engine, on /hit; "plain" is /plain on the first
# engine's server (its cookies are sent, but its session never loaded).
loads=($ENGINES)
first=${loads[0]}
[ "$BASELINE" = 1 ] && loads+=(plain)
port[plain]=${port[$first]}
master[plain]=${master[$first]}
cp "$out/cookies.$first.txt" "$out/cookies.plain.txt"
declare -A path=([sessiond]=/hit [cache]=/hit [db]=/hit [plain]=/plain)
# The processes that serve each load: its gunicorn workers, and its store.
declare -A store=([sessiond]=$sessiond_pid [cache]=$redis_pid [db]= [plain]=)
workers() { pgrep -P "${master[$1]}" | tr '\n' ' '; }

# load <load> <log> <duration>: wrk, each connection with its own cookie.
load() {
    client wrk -t"$CONNECTIONS" -c"$CONNECTIONS" -d"$3" --latency -s bench/django/cookies.lua \
        "http://127.0.0.1:${port[$1]}${path[$1]}" -- "$out/cookies.$1.txt" >"$2" 2>&1
}
modes=()
[ "$MICRO" = 1 ] && modes=(sessiond-sync redis-sync sessiond-aio redis-aio)
for round in $(seq "$ROUNDS"); do
    for e in "${loads[@]}"; do
        load "$e" "$out/warmup.$e.$round.log" "$WARMUP"
        # CPU time of the workers and of the store over the measured run:
        # the server core is saturated, so this is what bounds req/s.
        w=$(workers "$e")
        # shellcheck disable=SC2086 # $w is a list of pids
        before="$(ticks $w) $(ticks ${store[$e]})"
        load "$e" "$out/wrk.$e.$round.log" "$DURATION"
        # shellcheck disable=SC2086
        echo "$before $(ticks $w) $(ticks ${store[$e]}) $(getconf CLK_TCK)" >"$out/cpu.$e.$round.txt"
        echo "round $round $e: $(sed -n 's/^Requests\/sec: *//p' "$out/wrk.$e.$round.log") req/s" >&2
    done
    for m in "${modes[@]}"; do
        [[ $m == sessiond-* ]] && spid=$sessiond_pid || spid=$redis_pid
        client "$py" bench/django/clientbench.py "$m" --target "$SESSIOND_GRPC" --redis "$REDIS_URL" \
            --duration "$MICRO_DURATION" --warmup 1 --tasks "$TASKS" --server-pid "$spid" \
            >"$out/micro.$m.$round.log"
        grep -h '^RESULT' "$out/micro.$m.$round.log" >&2
    done
done

# --- checks: every request loaded and saved its own session -----------------
# Each session's counter n is the number of /hit requests that saved it: the
# sum over the sessions is at least what wrk counted as done (a request cut
# off at the end of a run may still be saved), and no wrk run saw an error.
for e in $ENGINES; do
    saved=0
    while read -r cookie; do
        n=$(curl -sf -H "Cookie: $cookie" "http://127.0.0.1:${port[$e]}/peek" | sed -n 's/.*"n": *\([0-9]*\).*/\1/p')
        saved=$((saved + n))
    done <"$out/cookies.$e.txt"
    counted=$(cat "$out"/{warmup,wrk}."$e".*.log |
        awk '/ requests in / { n += $1 } END { print n + 0 }')
    echo "$e: $saved saves in the sessions, $counted requests counted by wrk" | tee -a "$out/checks.txt" >&2
    if [ "$saved" -lt "$counted" ] || grep -qE 'Non-2xx|Socket errors' "$out"/{warmup,wrk}."$e".*.log; then
        echo "$e: requests lost their session or failed; see $out/wrk.$e.*.log" >&2
        exit 1
    fi
done
if [ "$BASELINE" = 1 ] && grep -qE 'Non-2xx|Socket errors' "$out"/{warmup,wrk}.plain.*.log; then
    echo "plain: requests failed; see $out/wrk.plain.*.log" >&2
    exit 1
fi

# --- optional: where a worker's time goes -------------------------------------
# py-spy samples every worker of one engine (on the client core) while wrk
# keeps one request in flight: then no worker waits for the core, so what
# py-spy sees running is CPU time, and a worker waiting on its store or for
# a request is left out as idle.
if [ "$PROFILE" = 1 ]; then
    for e in $ENGINES; do
        client "$venv/bin/py-spy" record --nonblocking --gil --subprocesses --format raw --rate 250 \
            --duration 12 --pid "${master[$e]}" --output "$out/profile.$e.txt" >"$out/py-spy.$e.log" 2>&1 &
        spy=$!
        sleep 1
        client wrk -t1 -c1 -d10s -s bench/django/cookies.lua "http://127.0.0.1:${port[$e]}/hit" \
            -- "$out/cookies.$e.txt" >"$out/profile-wrk.$e.log" 2>&1
        wait "$spy" || { echo "py-spy failed: $out/py-spy.$e.log" >&2; exit 1; }
        "$py" bench/django/profile.py "$out/profile.$e.txt" >"$out/profile.$e.md"
    done
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/load.txt" >&2

# --- the table -----------------------------------------------------------------
{
    echo
    "$py" bench/django/report.py "$out" "$ROUNDS" "${loads[*]}" "${modes[*]}"
    echo
    echo "median (min–max) over $ROUNDS rounds of $DURATION per engine after $WARMUP of warm-up;" \
        "wrk -t$CONNECTIONS -c$CONNECTIONS (one session per connection), gunicorn $WORKERS sync workers" \
        "per engine;" \
        "micro: $MICRO_DURATION s per call per round, $TASKS tasks for aio;" \
        "servers on CPU $SERVER_CPU, load generators on CPU $CLIENT_CPU;" \
        "$(tr '\n' ';' <"$out/load.txt")"
    "$py" - <<'EOF'
import importlib.metadata as md, platform
names = ["Django", "gunicorn", "redis", "hiredis", "grpcio", "protobuf", "sessiond"]
have = []
for n in names:
    try:
        have.append(f"{n} {md.version(n)}")
    except md.PackageNotFoundError:
        pass
print(f"Python {platform.python_version()}; " + ", ".join(have))
EOF
    echo "$(redis-server --version | cut -d' ' -f1-3); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); commit $(git rev-parse --short HEAD)"
} | tee "$out/table.md"
