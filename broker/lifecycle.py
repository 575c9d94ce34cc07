"""Running a long-lived async service from the command line until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Coroutine
from typing import Any


async def until_signalled(service: Coroutine[Any, Any, None]) -> None:
    """Run ``service``; SIGINT/SIGTERM cancel it so its ``finally`` blocks close Kafka cleanly."""
    task = asyncio.ensure_future(service)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
