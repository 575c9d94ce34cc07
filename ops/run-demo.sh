#!/usr/bin/env bash
# The main job on the embedded default: a real Kafka, the ingest service and a subscriber.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ops/bootstrap.sh
exec .venv/bin/notices demo "$@"
