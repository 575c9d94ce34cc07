"""Which adapter handles which format."""

from __future__ import annotations

from collections.abc import Iterable

from adapters.base import Adapter
from adapters.interpol import InterpolAdapter
from broker.errors import UnsupportedFormat


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

    def for_format(self, fmt: str) -> Adapter:
        try:
            return self._by_format[fmt]
        except KeyError:
            raise UnsupportedFormat(format=fmt, known=self.formats) from None


def default_registry() -> AdapterRegistry:
    """Every adapter the project ships."""
    return AdapterRegistry([InterpolAdapter()])
