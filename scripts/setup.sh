#!/usr/bin/env bash
# Create .venv (Python >= 3.11) and install matcher with its dev tools; quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
    python=""
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null &&
           "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            python=$candidate; break
        fi
    done
    [ -n "$python" ] || { echo "error: matcher needs Python >= 3.11 on PATH" >&2; exit 1; }
    echo "creating .venv with $($python --version)" >&2
    "$python" -m venv .venv
fi

stamp=.venv/.matcher-installed
wanted=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    echo "installing matcher and its dependencies into .venv" >&2
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
    echo "$wanted" > "$stamp"
fi
