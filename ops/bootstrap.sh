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
if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
    # The tests run a real Prometheus against the services and check the shipped rules with
    # promtool: Debian's package has both.
    command -v apt-get >/dev/null || { echo "error: install Prometheus (prometheus and promtool on PATH)" >&2; exit 2; }
    as_root=()
    [ "$(id -u)" -eq 0 ] || as_root=(sudo)
    echo "==> installing Prometheus (Debian's prometheus package)"
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
echo "==> fetching Apache Kafka jars (cached after the first run)"
.venv/bin/notices kafka fetch
