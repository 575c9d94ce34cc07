"""Cyber-observables as indicators: the value a recipient searches for, and its kind.

Kinds are STIX observable names where the value is the observable's own (``ipv4-addr``,
``domain-name``), ``<type>-<algorithm>`` for hashes (``file-sha256``) and named kinds for
other properties (``file-name``, ``email-subject``), all from mapping.yml.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.base import TranslationContext
from adapters.json_fields import JsonFields, json_type
from adapters.stix.tables import StixMapping
from broker.models import Indicator

_SUBSET_PATHS = frozenset({("ipv4-addr", "value"), ("ipv6-addr", "value")})
"""Where ISSUBSET names a network (CIDR), itself an indicator value of an address's kind."""


@dataclass(frozen=True)
class Observed:
    """An indicator and the property of its observable object it was read from."""

    indicator: Indicator
    selector: str


class Observables:
    def __init__(self, mapping: StixMapping, ctx: TranslationContext) -> None:
        self._mapping = mapping
        self._ctx = ctx

    def kind(self, object_type: str, path: str, where: str, *, subset: bool = False) -> str | None:
        """The indicator kind of an object path, or None when it holds no indicator value."""
        if subset and (object_type, path) not in _SUBSET_PATHS:
            return None
        algorithm = path.removeprefix("hashes.")
        if algorithm != path and "." not in algorithm:
            return self._hash_kind(object_type, algorithm, where)
        by_path = self._mapping.pattern_paths.get(f"{object_type}:{path}")
        if by_path is not None:
            return by_path
        return self._mapping.observables.get(object_type, {}).get(path)

    def indicators(self, raw: dict[str, Any], where: str) -> list[Observed]:
        """The indicator values of one observable (a STIX 2.1 object, or one inside 2.0 data)."""
        fields = JsonFields(raw, where, self._ctx, frozenset())
        object_type = fields.required_text("type")
        if not self._mapping.is_observable(object_type):
            fields.report_unknown(fields.at("type"), object_type)
        found = []
        for key, kind in self._mapping.observables.get(object_type, {}).items():
            value = _scalar(raw.get(key), fields, key)
            if value is not None:
                found.append(Observed(Indicator(kind=kind, value=value), key))
        hashes = fields.child("hashes")
        for algorithm in raw.get("hashes") or {}:
            value = hashes.text(algorithm)
            if value is not None:
                kind = self._hash_kind(object_type, algorithm, hashes.at(algorithm))
                found.append(Observed(Indicator(kind=kind, value=value), f"hashes.{algorithm}"))
        return found

    def _hash_kind(self, object_type: str, algorithm: str, where: str) -> str:
        suffix = self._mapping.hash_kinds.get(algorithm.upper())
        if suffix is None:
            self._ctx.unmapped[f"{where}={algorithm}"] += 1
            suffix = algorithm.lower()
        return f"{object_type}-{suffix}"


def _scalar(value: Any, fields: JsonFields, key: str) -> str | None:
    """Text or a whole number (an autonomous system's), as text; blank means absent."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise fields.error(fields.at(key), f"expected a string, found {json_type(value)}")
    return str(value).strip() or None
