"""National classification markings and TLP labels onto the common scale, by table only.

Every source writes its markings its own way ("VS-NfD", "DIFFUSION RESTREINTE", "tlp:white",
"TLP:AMBER+STRICT"); the equivalences live in ``markings.yml`` as data that a security
officer can review line by line. Lookup folds case, accents, spacing and separators, and
nothing else: a marking that is not in the table raises ``UnknownMarking`` rather than being
read as something lower than it is.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import TypeVar

from pydantic import BaseModel, ConfigDict

from adapters.lookups import load_mapping
from broker.errors import UnknownMarking
from broker.models import Level, Tlp

_SEPARATORS = re.compile(r"[\s\-_/]+")
V = TypeVar("V")


class _MarkingTables(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    national: dict[str, Level]
    tlp: dict[str, Tlp]


class MarkingTables:
    """The equivalence tables with their keys folded once, at load."""

    def __init__(self, tables: _MarkingTables) -> None:
        self._national = _folded(tables.national, "national")
        self._tlp = _folded(tables.tlp, "tlp")

    def national_level(self, marking: str, *, format: str, where: str) -> Level:
        """The common level of a national (or EU, NATO) classification marking."""
        level = self._national.get(fold(marking))
        if level is None:
            raise UnknownMarking(
                format=format, where=where, marking=marking, scheme="classification"
            )
        return level

    def tlp(self, label: str, *, format: str, where: str) -> Tlp:
        """A TLP 1.0 or 2.0 label, with or without its ``TLP:`` prefix, in any case."""
        key = fold(label)
        key = key.removeprefix("tlp:").removeprefix("tlp ").strip()
        found = self._tlp.get(key)
        if found is None:
            raise UnknownMarking(format=format, where=where, marking=label, scheme="TLP")
        return found


def fold(marking: str) -> str:
    """The comparison key: case, accents and runs of separators do not distinguish markings."""
    decomposed = unicodedata.normalize("NFKD", marking)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SEPARATORS.sub(" ", plain).strip().casefold()


def _folded(table: dict[str, V], name: str) -> dict[str, V]:
    folded: dict[str, V] = {}
    for marking, value in table.items():
        key = fold(marking)
        if key in folded and folded[key] != value:
            raise ValueError(f"markings.yml {name}: {marking!r} folds onto a key already taken")
        folded[key] = value
    return folded


@cache
def marking_tables() -> MarkingTables:
    """Loaded once per process: the tables are immutable and every adapter shares them."""
    return MarkingTables(load_mapping(__package__ or "adapters", "markings.yml", _MarkingTables))
