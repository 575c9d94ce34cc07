"""Where a subscriber hands its notices: any callable taking a notice, sync or async.

A sink returns only once the notice is safe on its side; the subscriber commits the offset
after that, so a sink that raises (or a process killed inside it) means the notice is read
again, never lost.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType

import orjson

from broker.errors import UndecodableNotice
from broker.models import NoticeEnvelope

Sink = Callable[[NoticeEnvelope], Awaitable[None] | None]
RejectSink = Callable[[UndecodableNotice], Awaitable[None] | None]


class JsonLinesSink:
    """Appends each notice as one JSON line; flushed and fsynced before it returns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")

    def __call__(self, notice: NoticeEnvelope) -> None:
        self._append(notice.model_dump_json())

    def reject(self, undecodable: UndecodableNotice) -> None:
        """A record that did not decode, with its bytes in base64, so it can be replayed."""
        line = {
            "topic": undecodable.topic,
            "partition": undecodable.partition,
            "offset": undecodable.offset,
            "error": str(undecodable.cause),
            "value_base64": base64.b64encode(undecodable.data).decode(),
        }
        self._append(orjson.dumps(line).decode())

    def _append(self, line: str) -> None:
        self._file.write(line + "\n")
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
