#!/usr/bin/env bash
# Malformed traffic (RELIABILITY.md): mutated HTTP/1.1 and HTTP/2 requests
# to the gateway; bad protobuf, wrong message lengths, wrong content types,
# oversized metadata, garbage frames and abrupt resets to the gRPC port.
# Then: the process is alive, no 5xx was answered, health is SERVING, memory
# is back to its baseline and a normal session works.
#
#   scripts/malformed-traffic.sh                    # 100,000 requests (the figures)
#   MALFORMED_REQUESTS=5000 scripts/malformed-traffic.sh   # the short version CI runs
#
# Extra arguments go to scripts/reliability/malformed.py (--seed, --json
# FILE). SESSIOND_BIN picks a binary; by default the debug build is made.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/reliability/venv.sh

if [ -z "${SESSIOND_BIN:-}" ]; then
    CARGO_INCREMENTAL=0 cargo build --bin sessiond
    SESSIOND_BIN="$PWD/target/debug/sessiond"
fi
python=$(reliability_python)
exec "$python" scripts/reliability/malformed.py --bin "$SESSIOND_BIN" \
    --requests "${MALFORMED_REQUESTS:-100000}" "$@"
