#!/usr/bin/env bash
# Flood test (RELIABILITY.md): namespace `flood` creates sessions as fast as
# it can until --max-sessions-per-namespace refuses it with
# RESOURCE_EXHAUSTED, while namespace `app` keeps creating and its Get p99
# must stay within 2x of its value without the flood.
#
#   scripts/flood-test.sh                 # limit 10,000, 20 s phases, p99 within 2x
#   FLOOD_ARGS="--limit 3000 --seconds 8 --max-p99-ratio 0" scripts/flood-test.sh
#                                         # what .ci/run runs: the p99 ratio reported only
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
exec "$python" scripts/reliability/flood.py --bin "$SESSIOND_BIN" ${FLOOD_ARGS:-} "$@"
