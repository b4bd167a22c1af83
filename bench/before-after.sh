#!/usr/bin/env bash
# Before/after of a change on rows 1, 2 and 5 of BENCHMARKS.md, in one run:
# the release sessiond and sessiond-bench built at a base commit and at
# HEAD, then bench/compare.sh (its servers, loads and pinning: server on
# CPU 0, client on CPU 1) run on each in turn, base then new, round after
# round, so that drift on the machine hits both sides alike. Prints the
# table of medians and new ÷ base; logs go to target/before-after/.
#
#   bench/before-after.sh 5abb7d2      # base commit (default: merge-base with main)
#   ROUNDS=3 DURATION=3s EXPIRE_SESSIONS=300000 bench/before-after.sh   # quicker
#   TABLE_ONLY=1 ROUNDS=7 bench/before-after.sh   # the table of the last run again
#
# Row 1 is Get ÷ empty RPC and row 2 Set ÷ Get, each within one side's
# round; row 5 is sessiond's RSS per session (EXPIRE_SESSIONS sessions of
# 100 B; Redis is left out, so the ratio is sessiond's own before/after),
# measured in the first round only: it moves by bytes, not by noise, and
# its fill and expiry take a minute and a half a side.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=$(git rev-parse --short "${1:-$(git merge-base HEAD main)}")
NEW=$(git rev-parse --short HEAD)
ROUNDS=${ROUNDS:-5}
export DURATION=${DURATION:-5s}
export EXPIRE_SESSIONS=${EXPIRE_SESSIONS:-1000000}
export EXPIRE_IN=${EXPIRE_IN:-90s}   # the fill (15-50 s for 1M) must end 10 s before
root=target/before-after
mkdir -p "$root"
if [ -z "${TABLE_ONLY:-}" ]; then
rm -rf "$root"/base.* "$root"/new.*

# The base tree, checked out beside the build; both builds share target/,
# so only sessiond itself is compiled twice.
tree=$root/tree
if [ -d "$tree" ]; then
    git -C "$tree" checkout -q --detach "$BASE"
else
    git worktree add -q --detach "$tree" "$BASE"
fi
build() { # build <manifest dir> <bin dir>
    nice cargo build -q --release --features bench --bin sessiond --bin sessiond-bench \
        --manifest-path "$1/Cargo.toml" --target-dir target >&2
    mkdir -p "$2"
    cp target/release/sessiond target/release/sessiond-bench "$2/"
}
build "$tree" "$root/bin-base"
build . "$root/bin-new"

for round in $(seq "$ROUNDS"); do
    for side in base new; do
        echo "round $round: $side" >&2
        rows="1 2"
        [ "$round" = 1 ] && rows="1 2 5"
        # A load that fails (row 6's expiry wants its fill done 10 s early)
        # leaves the figures measured before it; the table says n/a for
        # the rest.
        BIN=$root/bin-$side OUT=$root/$side.$round ROUNDS=1 ROWS="$rows" NO_REDIS=1 \
            bench/compare.sh >/dev/null || echo "compare.sh failed: $side, round $round" >&2
    done
done
fi

value() { # value <log> <label> <key>
    grep "^RESULT label=$2 " "$1" | tail -1 | tr ' ' '\n' | sed -n "s/^$3=//p"
}
median() { sort -g | awk 'NF { v[++n] = $1 } END { print (n ? v[int((n + 1) / 2)] : "nan") }'; }
most() { sort -g | awk 'NF { m = $1 } END { print (m == "" ? "nan" : m) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.3f", a / b }'; }
# row <side> <round> <n>: the figure of row n on one side in one round.
row() {
    local d=$root/$1.$2
    case $3 in
    1) ratio "$(value "$d/get.1.log" get ops_per_s)" "$(value "$d/empty.1.log" empty ops_per_s)" ;;
    2) ratio "$(value "$d/set.1.log" set ops_per_s)" "$(value "$d/get.1.log" get ops_per_s)" ;;
    5) value "$d/expiry.log" sessiond_memory bytes_per_session ;;
    esac
}
# abs <side> <load>: median ops/s of a load over the rounds; best: the most;
# cpu: the median of the server's CPU time per call.
abs() { for r in $(seq "$ROUNDS"); do value "$root/$1.$r/$2.1.log" "$2" ops_per_s; done | median; }
cpu() { for r in $(seq "$ROUNDS"); do value "$root/$1.$r/$2.1.log" "$2" server_cpu_us; done | median; }
best() { for r in $(seq "$ROUNDS"); do value "$root/$1.$r/$2.1.log" "$2" ops_per_s; done | most; }
{
echo
echo "| # | figure | base $BASE | new $NEW | new ÷ base (median, min–max over rounds) |"
echo "| --- | --- | --- | --- | --- |"
for n in 1 2 5; do
    case $n in
    1) name="Get ÷ empty RPC (ops/s)" ;;
    2) name="Set ÷ Get (ops/s)" ;;
    5) name="memory per session (RSS bytes)" ;;
    esac
    rounds=$(seq "$ROUNDS")
    [ $n = 5 ] && rounds=1
    b=$(for r in $rounds; do row base "$r" $n; echo; done | median)
    w=$(for r in $rounds; do row new "$r" $n; echo; done | median)
    per=$(for r in $rounds; do ratio "$(row new "$r" $n)" "$(row base "$r" $n)"; echo; done | sort -g)
    echo "| $n | $name | $b | $w | $(echo "$per" | median) ($(echo "$per" | head -1)–$(echo "$per" | tail -1)) |"
done
echo
# Work from other processes on the machine only ever slows a load down, so
# each load's best round is the figure least disturbed.
echo "| # | from each load's best round | base $BASE | new $NEW | new ÷ base |"
echo "| --- | --- | --- | --- | --- |"
for n in 1 2; do
    case $n in
    1) name="Get ÷ empty RPC"; num=get; den=empty ;;
    2) name="Set ÷ Get"; num=set; den=get ;;
    esac
    b=$(ratio "$(best base $num)" "$(best base $den)")
    w=$(ratio "$(best new $num)" "$(best new $den)")
    echo "| $n | $name | $b | $w | $(ratio "$w" "$b") |"
done
echo
# The server's CPU time per call moves least with what else runs.
echo "| load | server CPU µs/call, base (median) | new | new ÷ base |"
echo "| --- | --- | --- | --- |"
for load in empty get set; do
    echo "| $load | $(cpu base $load) | $(cpu new $load) | $(ratio "$(cpu new $load)" "$(cpu base $load)") |"
done
echo
for side in base new; do
    echo "$side ops/s, median (best) over the rounds: empty $(abs $side empty) ($(best $side empty)), Get $(abs $side get) ($(best $side get)), Set $(abs $side set) ($(best $side set))."
done
echo "$ROUNDS rounds alternating base and new, $DURATION per load; row 5 in the first round, $EXPIRE_SESSIONS sessions; server on CPU ${SERVER_CPU:-0}, client on CPU ${CLIENT_CPU:-1}; load $(cut -d' ' -f1-3 /proc/loadavg) at the end."
} | tee "$root/table.md"
