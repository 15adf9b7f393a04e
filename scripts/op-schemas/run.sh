#!/usr/bin/env bash
# Regenerates src/target/op-schemas.data.ts from pinned packages, in a virtual environment made here
# (scripts/op-schemas/.venv, kept between runs: a later run only checks the pins).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
"$venv/bin/python" "$here/generate.py" "$@"
