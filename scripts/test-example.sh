#!/usr/bin/env bash
# Tests the Python example backend (examples/django-style) against a real
# sessiond: builds the debug binary, makes a virtualenv under target/ with
# the example's requirements, generates the gRPC stubs from proto/ into
# target/, and runs the example's unittest suite. Exits non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/.."

example=examples/django-style
venv=target/example-venv
stubs=target/example-stubs
python=${PYTHON:-python3}

cargo build --bin sessiond

# Reinstall when the requirements change; pip is quiet when all is there.
if [ ! -x "$venv/bin/python" ] || [ "$example/requirements.txt" -nt "$venv/.installed" ]; then
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$example/requirements.txt"
    touch "$venv/.installed"
fi

rm -rf "$stubs" && mkdir -p "$stubs"
"$venv/bin/python" -m grpc_tools.protoc -I proto \
    --python_out="$stubs" --grpc_python_out="$stubs" \
    proto/sessiond/v1/sessiond.proto

SESSIOND_BIN="$PWD/target/debug/sessiond" PYTHONPATH="$PWD/$stubs" \
    "$venv/bin/python" -m unittest discover --start-directory "$example" --pattern 'test_*.py' --verbose
