#!/usr/bin/env bash
# Tests the Django example (examples/django) against a real sessiond: builds
# the debug binary, makes a virtualenv under target/ with the example's
# requirements (the Python client from clients/python, Django, gunicorn), and
# runs the example's end-to-end suite, which starts sessiond and gunicorn on
# free loopback ports. Exits non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/.."

example=examples/django
venv=target/example-django-venv
python=${PYTHON:-python3}

cargo build --bin sessiond

# pip copies clients/python into the venv, so reinstall when it or the
# requirements change: the stamp is a hash of both (build output and caches
# left out).
stamp=$(
    {
        sha256sum "$example/requirements.txt"
        find clients/python \( -name '.*' -o -name __pycache__ -o -name '*.egg-info' \
            -o -name build -o -name dist \) -prune -o -type f -print0 |
            sort -z | xargs -0 sha256sum
    } | sha256sum | cut -d' ' -f1
)
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
if [ "$(cat "$venv/.installed" 2>/dev/null)" != "$stamp" ]; then
    # The requirements name ../../clients/python, relative to the example.
    (cd "$example" && "$OLDPWD/$venv/bin/pip" install --quiet --disable-pip-version-check \
        -r requirements.txt)
    echo "$stamp" >"$venv/.installed"
fi

SESSIOND_BIN="$PWD/target/debug/sessiond" \
    "$venv/bin/python" -m unittest discover --start-directory "$example" \
    --pattern 'test_*.py' --verbose
