#!/usr/bin/env bash
# Soak (RELIABILITY.md): mixed load, a mass expiry wave every sample
# interval and snapshots every 10 s; RSS, live sessions and Get p99 sampled
# each interval. RSS per live session must stay flat, and Get p99 too.
#
#   scripts/soak.sh                       # 30 minutes, a sample a minute
#   SOAK_ARGS="--seconds 60 --sample 10 --wave 2000 --max-p99-ratio 0" scripts/soak.sh
#                                         # what .ci/run runs: p99 reported only
#
# SESSIOND_BIN picks a binary; by default the debug build is made.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/reliability/venv.sh

if [ -z "${SESSIOND_BIN:-}" ]; then
    CARGO_INCREMENTAL=0 cargo build --bin sessiond
    SESSIOND_BIN="$PWD/target/debug/sessiond"
fi
python=$(reliability_python)
# shellcheck disable=SC2086
exec "$python" scripts/reliability/soak.py --bin "$SESSIOND_BIN" ${SOAK_ARGS:-} "$@"
