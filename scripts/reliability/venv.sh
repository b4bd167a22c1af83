# Sourced by the reliability scripts: `reliability_python` prints the
# python of a virtualenv under target/reliability/ holding the Python client
# (clients/python, editable) and the pinned tools of requirements.txt,
# remade when either changes. Needs CPython 3 with venv and pip.
reliability_python() {
    local dir=target/reliability/venv
    if [ ! -x "$dir/bin/python" ] || [ clients/python/pyproject.toml -nt "$dir/.installed" ] \
        || [ scripts/reliability/requirements.txt -nt "$dir/.installed" ]; then
        rm -rf "$dir"
        "${PYTHON:-python3}" -m venv "$dir" >&2
        "$dir/bin/pip" install --quiet --disable-pip-version-check \
            -e clients/python -r scripts/reliability/requirements.txt >&2
        touch "$dir/.installed"
    fi
    echo "$PWD/$dir/bin/python"
}
