"""Where a subscriber hands its notices: any callable taking a notice, sync or async.

A sink returns only once the notice is safe on its side; the subscriber commits the offset
after that, so a sink that raises (or a process killed inside it) means the notice is read
again, never lost.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType

from broker.models import NoticeEnvelope

Sink = Callable[[NoticeEnvelope], Awaitable[None] | None]


class JsonLinesSink:
    """Appends each notice as one JSON line; flushed and fsynced before it returns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")

    def __call__(self, notice: NoticeEnvelope) -> None:
        self._file.write(notice.model_dump_json() + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> JsonLinesSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
