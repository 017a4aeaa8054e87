#!/usr/bin/env bash
# Create (if missing) the virtualenv ($RSFS_VENV, default .venv at the repo root)
# and install tests/python/requirements.txt into it, only when the requirements
# file changed since the last install.
# Usage: bash scripts/python-venv.sh   (then .venv/bin/pytest -q tests/python)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${RSFS_VENV:-$root/.venv}"
req="$root/tests/python/requirements.txt"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
    rm -f "$stamp"
fi

want="$(sha256sum "$req" | cut -d' ' -f1)"
have="$(cat "$stamp" 2>/dev/null || true)"
if [ "$want" != "$have" ]; then
    echo "python-venv: installing $(basename "$req") into $venv" >&2
    rm -f "$stamp"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
    echo "$want" > "$stamp"
fi
