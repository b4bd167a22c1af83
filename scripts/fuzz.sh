#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ (RELIABILITY.md) for FUZZ_SECONDS
# each (30 by default, what .ci/run does), starting from the committed
# corpus in fuzz/corpus/<target>; what the run adds goes to
# target/fuzz-corpus/<target>, so the committed corpus is only read. A
# crash stops the script with the input under fuzz/artifacts/.
#
#   scripts/fuzz.sh                          # every target, 30 s each
#   FUZZ_SECONDS=600 scripts/fuzz.sh json_value   # one target, 10 minutes
#
# Needs the nightly toolchain (cargo +nightly); installs cargo-fuzz when
# absent. Targets are built without a sanitizer: the code under test is
# safe Rust, and ASan would double the build.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "scripts/fuzz.sh: cargo-fuzz needs the nightly toolchain (rustup toolchain install nightly)" >&2
    exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    CARGO_INCREMENTAL=0 cargo install cargo-fuzz --locked --version 0.13.2
fi

seconds=${FUZZ_SECONDS:-30}
cd fuzz
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
CARGO_INCREMENTAL=0 cargo +nightly fuzz build --sanitizer none
for target in "${targets[@]}"; do
    mkdir -p "../target/fuzz-corpus/$target"
    echo "== fuzz $target, ${seconds}s"
    CARGO_INCREMENTAL=0 cargo +nightly fuzz run --sanitizer none "$target" \
        "../target/fuzz-corpus/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 2>&1 \
        | grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::|panicked|^SUMMARY|Test unit written|^Done'
done
