"""Which adapter handles which format, found through Python entry points.

Adapters register under the ``noticebroker.adapters`` entry-point group (pyproject.toml), so a
new format, the project's own or a third party's package, is added without editing this
module. Each entry point names a class that is instantiated once, with no arguments.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import entry_points

from adapters.base import Adapter
from broker.errors import AdapterLoadError, UnsupportedFormat

ENTRY_POINT_GROUP = "noticebroker.adapters"


class AdapterRegistry:
    def __init__(self, adapters: Iterable[Adapter]) -> None:
        self._by_format: dict[str, Adapter] = {}
        for adapter in adapters:
            for fmt in adapter.formats:
                if fmt in self._by_format:
                    raise ValueError(
                        f"format {fmt!r} is claimed by both {self._by_format[fmt].name!r} "
                        f"and {adapter.name!r}"
                    )
                self._by_format[fmt] = adapter

    @property
    def formats(self) -> tuple[str, ...]:
        return tuple(sorted(self._by_format))

    def adapters(self) -> list[Adapter]:
        """Each adapter once, in the order of its first format's name."""
        unique = {id(adapter): adapter for adapter in self._by_format.values()}
        return sorted(unique.values(), key=lambda adapter: adapter.formats[0])

    def for_format(self, fmt: str) -> Adapter:
        try:
            return self._by_format[fmt]
        except KeyError:
            raise UnsupportedFormat(format=fmt, known=self.formats) from None

    def detect(self, head: bytes) -> str | None:
        """The format of a payload from its first bytes, when exactly one adapter claims it."""
        claims = [adapter for adapter in self.adapters() if adapter.detect(head)]
        if len(claims) != 1:
            return None
        (adapter,) = claims
        return adapter.formats[0]


def default_registry() -> AdapterRegistry:
    """Every adapter installed, the project's and third parties'."""
    adapters: list[Adapter] = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            adapters.append(point.load()())
        except Exception as exc:  # a broken plug-in names itself instead of a bare traceback
            raise AdapterLoadError(entry_point=f"{point.name} = {point.value}", cause=exc) from exc
    return AdapterRegistry(adapters)
