#!/usr/bin/env bash
# Lint, type-check and run every test against a real Apache Kafka broker.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ops/bootstrap.sh
echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "==> mypy"
.venv/bin/mypy
echo "==> pytest"
exec .venv/bin/pytest "$@"
