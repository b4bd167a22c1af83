#!/usr/bin/env bash
# Real browser (RELIABILITY.md): headless Chromium, driven by the Debian
# chromedriver over WebDriver, against the gateway of a real sessiond on
# loopback, over TLS (a self-signed certificate trusted by its key hash)
# and plain HTTP: the cookie's attributes and invisibility to scripts,
# cross-site forms and fetches refused by the CSRF rules, rotate, logout
# clearing the cookie, and an expired session giving a new one.
#
#   scripts/browser-test.sh                       # what .ci/run runs
#   scripts/browser-test.sh --json target/reliability/browser.json
#
# Needs chromium and chromium-driver (Debian packages; .ci/run installs
# them) and openssl. SESSIOND_BIN picks a binary; by default the debug
# build is made.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/reliability/venv.sh

for tool in chromium chromedriver openssl; do
    if ! command -v "$tool" >/dev/null; then
        echo "scripts/browser-test.sh: $tool is missing (apt-get install chromium chromium-driver openssl)" >&2
        exit 1
    fi
done
if [ -z "${SESSIOND_BIN:-}" ]; then
    CARGO_INCREMENTAL=0 cargo build --bin sessiond
    SESSIOND_BIN="$PWD/target/debug/sessiond"
fi
python=$(reliability_python)
exec "$python" scripts/reliability/browser.py --bin "$SESSIOND_BIN" "$@"
