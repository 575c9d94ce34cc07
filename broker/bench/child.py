"""A benchmark participant in a process of its own: ``python -m broker.bench.child ROLE JSON``.

Settings come from the environment (``Settings.to_env`` of the parent's), the role's own
arguments as one JSON object. Roles:

- ``ingest``: the real IngestService until SIGTERM.
- ``distribute``: the real DistributorService (``policy``: a Policy as JSON, ``group_id``).
- ``passthrough``: the R2 baseline (``group_id``, ``pattern``, ``target``).
- ``load``: the real ListLoader on one file (``path``, ``agency``, ``format``), then writes
  ``{"published", "seconds", "peak_rss_bytes"}`` to ``out`` and exits; the peak is the
  process's own (``peak_rss``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
import sys
import time
from pathlib import Path
from typing import Any

from adapters.registry import default_registry
from broker.bench.clients import PassThrough
from broker.distributor import DistributorService
from broker.ingest import IngestService
from broker.lifecycle import until_signalled
from broker.list_loader import ListLoader
from broker.policy.profiles import Policy
from broker.serde import NoticeSerde
from broker.settings import Settings


async def _main(role: str, args: dict[str, Any]) -> None:
    settings = Settings()
    serde = NoticeSerde.from_settings(settings)
    match role:
        case "ingest":
            ingest = IngestService(settings, registry=default_registry(), serde=serde)
            await until_signalled(ingest.run())
        case "distribute":
            distributor = DistributorService(
                settings,
                policy=Policy.model_validate_json(args["policy"]),
                serde=serde,
                group_id=args["group_id"],
            )
            await until_signalled(distributor.run())
        case "passthrough":
            passthrough = PassThrough(
                settings, group_id=args["group_id"], pattern=args["pattern"], target=args["target"]
            )
            await until_signalled(passthrough.run())
        case "load":
            loader = ListLoader(
                settings,
                registry=default_registry(),
                serde=serde,
                agency=args["agency"],
                fmt=args["format"],
            )
            started = time.perf_counter()
            report = await loader.load(Path(args["path"]))
            seconds = time.perf_counter() - started
            result = {
                "published": report.published,
                "seconds": seconds,
                "peak_rss_bytes": peak_rss(),
            }
            await asyncio.to_thread(Path(args["out"]).write_text, json.dumps(result))
        case _:
            raise SystemExit(f"unknown role {role!r}")


def peak_rss() -> int:
    """This process's peak resident set since it was exec'd, in bytes: VmHWM.

    Not getrusage's ru_maxrss (nor the parent's RUSAGE_CHILDREN / wait4): on Linux that
    high-water mark survives exec, so a child forked from a big parent starts with the
    parent's size as its peak, and a small load reads as big as the benchmark itself.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    role, args = sys.argv[1], json.loads(sys.argv[2])
    asyncio.run(_main(role, args))


if __name__ == "__main__":
    main()
