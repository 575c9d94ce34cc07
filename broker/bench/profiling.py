"""``notices bench --profile DIR``: pyinstrument on an extra, unmeasured run of P1 and of each
P2 (the last warm-up run, so that no measured figure carries the profiler's overhead).

pyinstrument is not a dependency of the hub: it is imported only when asked for, and its
absence is a clear error. It samples the event loop's thread every millisecond, so a profile
shows the services' own work and the Kafka client's alike; ``flat`` ranks functions by their
own time, the list of hotspots. It samples wall-clock time: where the cores are busy with
other work, time spent waiting for a core lands on whatever frame was running, so a
surprising entry deserves a CPU-time check before a fix.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from broker.errors import NoticeBrokerError


class ProfilerMissing(NoticeBrokerError):
    def __init__(self) -> None:
        super().__init__(
            "--profile needs pyinstrument (the 'profile' extra): "
            "pip install 'notice-broker[profile]'"
        )


class PyinstrumentProfiling:
    """Writes NAME.txt (call tree), NAME.flat.txt (own time per function), NAME.html."""

    def __init__(self, folder: Path) -> None:
        try:
            self._module: Any = importlib.import_module("pyinstrument")
        except ImportError:
            raise ProfilerMissing() from None
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.written: list[Path] = []

    @contextlib.contextmanager
    def section(self, name: str) -> Iterator[None]:
        profiler = self._module.Profiler(interval=0.001, async_mode="disabled")
        profiler.start()
        try:
            yield
        finally:
            profiler.stop()
            outputs = {
                f"{name}.txt": profiler.output_text(unicode=True, show_all=False),
                f"{name}.flat.txt": profiler.output_text(unicode=True, flat=True),
                f"{name}.html": profiler.output_html(),
            }
            for file, text in outputs.items():
                path = self.folder / file
                path.write_text(text)
                self.written.append(path)
