#!/usr/bin/env bash
# Crash test (RELIABILITY.md): writers record every acknowledged Create, Set
# and Flush; sessiond is SIGKILLed at random moments, every other round in
# the middle of a snapshot (a 48 MB ballast and a snapshot every second make
# them last), and restarted on the same data dir. With --fsync always no
# acknowledged write may be lost and no flushed session come back; with
# everysec only those of the last second before the kill.
#
#   scripts/crash-test.sh            # 20 rounds per fsync mode (the figures)
#   CRASH_ROUNDS=3 scripts/crash-test.sh   # the short version CI runs
#
# Extra arguments go to scripts/reliability/crash.py (--seed, --writers,
# --ballast, --json FILE). SESSIOND_BIN picks a binary; by default the
# debug build is made.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/reliability/venv.sh

if [ -z "${SESSIOND_BIN:-}" ]; then
    CARGO_INCREMENTAL=0 cargo build --bin sessiond
    SESSIOND_BIN="$PWD/target/debug/sessiond"
fi
python=$(reliability_python)
exec "$python" scripts/reliability/crash.py --bin "$SESSIOND_BIN" \
    --rounds "${CRASH_ROUNDS:-20}" "$@"
