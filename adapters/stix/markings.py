"""STIX data markings read as TLP, per object and per property, never wider than written.

A STIX object is marked as a whole by ``object_marking_refs`` and property by property by
``granular_markings`` (a marking and the selectors it applies to, such as ``description`` or
``labels.[1]``). The STIX specification leaves open how several markings on one property
combine; read for sharing, the most restrictive one governs, so a granular marking can only
add restriction to what the object-level markings say (as cti-python-stix2 keeps the two
kinds apart and answers "which markings apply to this selector" by prefix, so do we).

Marking definitions are found in the payload or by the ids the TLP standards fix. A marking
nothing defines (a dangling reference), or of a kind no table knows, raises UnknownMarking:
it might be a classification or a caveat, which no TLP reading can stand in for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from adapters.base import TranslationContext
from adapters.json_fields import JsonFields
from adapters.markings import marking_tables
from adapters.stix.bundle import StixObject
from adapters.stix.tables import StixMapping
from broker.errors import TranslationError, UnknownMarking
from broker.models import Tlp

_SELECTOR_PART = re.compile(r"\[\d+\]|[^.\[\]]+")
_MARKING_ID = "marking-definition--"


def most_restrictive(tlps: Iterable[Tlp]) -> Tlp:
    """The strictest of the TLPs (Tlp lists them least restrictive first)."""
    order = list(Tlp)
    return max(tlps, key=order.index)


def least_restrictive(tlps: Iterable[Tlp]) -> Tlp:
    order = list(Tlp)
    return min(tlps, key=order.index)


def tlp_label(tlp: Tlp) -> str:
    """The label as FIRST writes it: TLP:AMBER+STRICT, not AMBER_STRICT."""
    return "TLP:" + tlp.value.replace("_", "+")


@dataclass(frozen=True)
class Marking:
    """One marking definition: its TLP (None for a statement) and its text as written."""

    tlp: Tlp | None
    text: str


@dataclass(frozen=True)
class ObjectMarkings:
    """What one STIX object's markings say about each of its properties."""

    object_tlp: Tlp | None
    """The strictest TLP of object_marking_refs; None when the object has no TLP marking."""
    granular: tuple[tuple[str, Tlp], ...]
    """(selector, TLP) of each granular TLP marking."""
    floor: Tlp | None
    """The strictest granular TLP whose selector selects nothing in the object.

    Where such a marking was meant to apply cannot be known, so it applies everywhere.
    """
    texts: tuple[str, ...]
    """TLP labels of the object-level markings and the statements of all markings, verbatim."""

    def tlp_of(self, selector: str, default: Tlp) -> Tlp:
        """The TLP of the property at ``selector``, or of anything derived from it.

        A granular marking applies to what it selects, to all inside it and, since a canonical
        field made from a whole property carries every part of it, to what contains it.
        """
        covering = [tlp for marked, tlp in self.granular if _overlaps(marked, selector)]
        if self.object_tlp is not None:
            covering.append(self.object_tlp)
        elif not covering:
            covering.append(default)
        if self.floor is not None:
            covering.append(self.floor)
        return most_restrictive(covering)


class MarkingResolver:
    """Reads every object's markings against the marking definitions of one payload."""

    def __init__(
        self,
        definitions: Mapping[str, StixObject],
        mapping: StixMapping,
        ctx: TranslationContext,
    ) -> None:
        self._definitions = definitions
        self._mapping = mapping
        self._ctx = ctx
        self._known: dict[str, Marking] = {}

    def object_markings(self, obj: StixObject) -> ObjectMarkings:
        # Read apart from the notice's own field reader: markings are read for every object,
        # notices or context, and their unread properties are the notice's business.
        fields = JsonFields(obj.raw, obj.where, self._ctx, frozenset())
        object_level = [
            self.marking(ref, where) for where, ref in fields.texts("object_marking_refs")
        ]
        granular: list[tuple[str, Tlp]] = []
        floor: list[Tlp] = []
        statements: list[str] = []
        for entry in fields.children("granular_markings"):
            marking, selectors = self._granular(entry)
            if marking is None:
                continue
            if marking.tlp is None:
                statements.append(marking.text)
                continue
            if not selectors:
                floor.append(marking.tlp)
            for where, selector in selectors:
                if _selects(obj.raw, selector):
                    granular.append((selector, marking.tlp))
                else:
                    floor.append(marking.tlp)
                    fields.report_unknown(where, selector)
        object_tlps = [marking.tlp for marking in object_level if marking.tlp is not None]
        texts = [marking.text for marking in object_level] + statements
        return ObjectMarkings(
            object_tlp=most_restrictive(object_tlps) if object_tlps else None,
            granular=tuple(granular),
            floor=most_restrictive(floor) if floor else None,
            texts=tuple(dict.fromkeys(texts)),
        )

    def marking(self, ref: str, where: str) -> Marking:
        """The marking a reference names; UnknownMarking when nothing defines it."""
        known = self._known.get(ref)
        if known is not None:
            return known
        definition = self._definitions.get(ref)
        if definition is not None:
            marking = self._defined(definition, ref)
        elif ref in self._mapping.fixed_markings:
            label = self._mapping.fixed_markings[ref]
            marking = Marking(tlp=self._mapping.fixed_tlp(ref), text=label)
        elif ref.startswith(_MARKING_ID):
            raise UnknownMarking(
                format=self._ctx.format,
                where=where,
                marking=ref,
                scheme="STIX marking-definition that the payload does not define",
            )
        else:
            raise TranslationError(
                format=self._ctx.format, where=where, reason=f"{ref!r} is no marking-definition id"
            )
        self._known[ref] = marking
        return marking

    def _granular(self, entry: JsonFields) -> tuple[Marking | None, list[tuple[str, str]]]:
        """A granular marking's definition and selectors; no definition for a language mark."""
        ref = entry.text("marking_ref")
        lang = entry.text("lang")  # the language of the selected text: no access marking
        selectors = entry.texts("selectors")
        entry.audit()
        for where, selector in selectors:
            if not all(_SELECTOR_PART.fullmatch(part) for part in selector.split(".")):
                raise entry.error(where, f"{selector!r} is not a STIX selector (name.[0].name)")
        if ref is None:
            if lang is None:
                raise entry.error(entry.path, "a granular marking needs marking_ref or lang")
            return None, selectors
        return self.marking(ref, entry.at("marking_ref")), selectors

    def _defined(self, definition: StixObject, ref: str) -> Marking:
        """A marking-definition object of the payload, read every way it can be read.

        Where its fixed id, definition and TLP 2.0 extension disagree, the strictest wins.
        """
        fields = JsonFields(definition.raw, definition.where, self._ctx, frozenset())
        readings: list[tuple[Tlp, str]] = []
        fixed = self._mapping.fixed_tlp(ref)
        if fixed is not None:
            readings.append((fixed, self._mapping.fixed_markings[ref]))
        tlp2 = self._tlp2(fields, definition.raw.get("extensions"))
        if tlp2 is not None:
            readings.append(tlp2)
        statement = self._definition(fields, readings, extended=tlp2 is not None)
        name = fields.text("name")
        if readings:
            tlp = most_restrictive(tlp for tlp, _ in readings)
            agreed = all(reading is tlp for reading, _ in readings)
            label = next(label for reading, label in readings if reading is tlp)
            return Marking(tlp=tlp, text=name if name and agreed else label)
        if statement is not None:
            return Marking(tlp=None, text=statement)
        raise UnknownMarking(
            format=self._ctx.format,
            where=definition.where,
            marking=ref,
            scheme="STIX marking-definition with neither a definition nor a known extension",
        )

    def _tlp2(self, fields: JsonFields, raw: object) -> tuple[Tlp, str] | None:
        """The TLP 2.0 extension's label; any other extension is a marking nobody knows."""
        extensions = fields.child("extensions")  # checks that it is an object
        if not isinstance(raw, dict):
            return None
        extension_id = self._mapping.tlp2_extension
        unknown = sorted(raw.keys() - {extension_id})
        if unknown:
            raise UnknownMarking(
                format=self._ctx.format,
                where=fields.at("extensions"),
                marking=unknown[0],
                scheme="STIX marking extension",
            )
        if extension_id not in raw:
            return None
        extension = extensions.child(extension_id)
        label = extension.required_text("tlp_2_0")
        extension.ignore("extension_type")
        where = extension.at("tlp_2_0")
        tlp = marking_tables().tlp(label, format=self._ctx.format, where=where)
        return tlp, f"TLP:{label.upper()}"

    def _definition(
        self, fields: JsonFields, readings: list[tuple[Tlp, str]], *, extended: bool
    ) -> str | None:
        """Add a TLP definition to ``readings``; return a statement's text."""
        definition_type = fields.text("definition_type")
        definition = fields.child("definition")
        if definition_type is None:
            return None
        if definition_type == "tlp":
            label = definition.required_text("tlp")
            where = definition.at("tlp")
            tlp = marking_tables().tlp(label, format=self._ctx.format, where=where)
            readings.append((tlp, f"TLP:{label.upper()}"))
            return None
        if definition_type == "statement":
            return definition.required_text("statement")
        where = fields.at("definition_type")
        if not extended:
            raise UnknownMarking(
                format=self._ctx.format, where=where, marking=definition_type, scheme="STIX"
            )
        # Some producers repeat a TLP 2.0 extension's label as definition_type ("TLP:RED").
        tlp = marking_tables().tlp(definition_type, format=self._ctx.format, where=where)
        readings.append((tlp, definition_type))
        return None


def _selects(obj: object, selector: str) -> bool:
    """Whether the selector reaches a property that the object has."""
    node = obj
    for part in selector.split("."):
        if part.startswith("["):
            index = int(part[1:-1])
            if not isinstance(node, list) or index >= len(node):
                return False
            node = node[index]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False
    return True


def _overlaps(marked: str, selector: str) -> bool:
    return (
        marked == selector or selector.startswith(marked + ".") or marked.startswith(selector + ".")
    )
