#!/usr/bin/env bash
# Creates .venv with the project and its test tools, from a machine that has only Python 3.11+,
# Java 17 and Maven. Safe to run again: it only installs what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "error: Python 3.11 or newer is needed as '$python' (set PYTHON=/path/to/python3.11)" >&2
    exit 2
fi
for tool in java mvn; do
    command -v "$tool" >/dev/null || { echo "error: '$tool' is not on PATH: install Java 17 and Maven" >&2; exit 2; }
done

if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv"
    "$python" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
    echo "==> installing the project and its test tools into .venv"
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e '.[test]'
    rm -f .venv/.installed-*
    touch "$stamp"
fi
echo "==> fetching Apache Kafka jars (cached after the first run)"
.venv/bin/notices kafka fetch
