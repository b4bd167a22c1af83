#!/usr/bin/env bash
# Tests the Python client (clients/python) against a real sessiond, on each
# supported Django version: the generated stubs match proto/, ruff and
# mypy --strict are clean, the package's pytest suite passes, and Django's
# own sessions_tests (from the pinned Django sdist) pass against the
# sessiond engine. Virtualenvs live under target/python-client/.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
# The supported Django versions, pinned: 4.2 LTS and the current 5.x.
DJANGO_VERSIONS=${DJANGO_VERSIONS:-"4.2.30 5.2.19"}
LINT_DJANGO=5.2.19
package=clients/python
root=target/python-client

CARGO_INCREMENTAL=0 cargo build --bin sessiond
export SESSIOND_BIN="$PWD/target/debug/sessiond"

# venv <django version>: a virtualenv with the package installed editable
# (source changes need no reinstall), remade when pyproject.toml changes.
venv() {
    local dir="$root/django-$1"
    if [ ! -x "$dir/bin/python" ] || [ "$package/pyproject.toml" -nt "$dir/.installed" ]; then
        rm -rf "$dir"
        "$python" -m venv "$dir"
        local extras=django
        [ "$1" = "$LINT_DJANGO" ] && extras=django,dev
        "$dir/bin/pip" install --quiet --disable-pip-version-check \
            -e "$package[$extras]" "django==$1" pytest==9.2.0 pytest-asyncio==1.5.0 trustme==1.2.1
        touch "$dir/.installed"
    fi
    echo "$dir/bin"
}

lint=$(venv "$LINT_DJANGO")

# The committed stubs are what grpcio-tools makes of proto/ today.
generated=$(mktemp -d)
trap 'rm -rf "$generated"' EXIT
"$lint/python" -m grpc_tools.protoc -I proto --python_out="$generated" --pyi_out="$generated" \
    proto/sessiond/v1/sessiond.proto
for file in sessiond_pb2.py sessiond_pb2.pyi; do
    if ! diff -q "$generated/sessiond/v1/$file" "$package/src/sessiond/v1/$file" >/dev/null; then
        echo "$package/src/sessiond/v1/$file is stale: regenerate it (see $package/README.md)" >&2
        exit 1
    fi
done

(cd "$package" && "$OLDPWD/$lint/ruff" check . && "$OLDPWD/$lint/ruff" format --check . \
    && "$OLDPWD/$lint/mypy")

for version in $DJANGO_VERSIONS; do
    bin=$(venv "$version")
    echo "== Django $version: the package's tests"
    (cd "$package" && "$OLDPWD/$bin/python" -m pytest -q)
    echo "== Django $version: Django's own sessions_tests against sessiond"
    (cd "$package" && "$OLDPWD/$bin/python" tests/run_django_suite.py --cache "$OLDPWD/target/django-sdist")
done
