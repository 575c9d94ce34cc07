"""The payload as a graph: what a notice may draw from the objects around it.

A bulletin names its author, the objects it references and those its relationships link it
to. Each of those is another STIX object with markings of its own, so every name drawn from
one comes back with its origin, and the bulletin's classification accounts for it.
"""

from __future__ import annotations

from collections import defaultdict

from adapters.base import TranslationContext
from adapters.json_fields import JsonFields, json_type
from adapters.stix.bundle import Payload, StixObject
from adapters.stix.draft import Origin
from adapters.stix.markings import ObjectMarkings
from adapters.stix.observables import Observables, Observed
from adapters.stix.tables import StixMapping
from broker.errors import TranslationError
from broker.models import RelatedEntity

NOT_ENTITIES = frozenset(
    {"relationship", "sighting", "marking-definition", "language-content", "extension-definition"}
)
"""Relationship and meta objects: links and annotations between entities, not entities."""


class Graph:
    def __init__(
        self,
        payload: Payload,
        markings: dict[str, ObjectMarkings],
        mapping: StixMapping,
        ctx: TranslationContext,
    ) -> None:
        self._payload = payload
        self._markings = markings
        self._mapping = mapping
        self._ctx = ctx
        self.observables = Observables(mapping, ctx)
        self._links = self._relationships()

    def markings(self, obj: StixObject) -> ObjectMarkings:
        return self._markings[obj.id]

    def entity(self, ref: str, kind: str | None = None) -> tuple[RelatedEntity, list[Origin]]:
        """The object a reference names, as a related entity, with the origin of its name.

        An object the payload does not hold is still named, by its id: the reference says
        that it exists and what type it is, nothing more.
        """
        target = self._payload.by_id.get(ref)
        if target is None:
            return RelatedEntity(kind=kind or ref.partition("--")[0], name=ref, ref=ref), []
        fields = JsonFields(target.raw, target.where, self._ctx, frozenset())
        origins = []
        name = ref
        for key in self._mapping.name_properties:
            text = fields.text(key)
            if text is not None:
                name = text
                origins.append(Origin(self._markings[target.id], key))
                break
        entity_kind = kind or self._kind(target, fields)
        return RelatedEntity(kind=entity_kind, name=name, ref=ref), origins

    def observed(self, ref: str) -> tuple[StixObject, list[Observed]] | None:
        """The indicator values of a referenced observable the payload holds."""
        target = self._payload.by_id.get(ref)
        if target is None:
            return None
        return target, self.observables.indicators(target.raw, target.where)

    def linked(self, obj: StixObject) -> list[tuple[str, list[Origin]]]:
        """The other ends of the relationships of ``obj``, with the relationships' origins."""
        return self._links.get(obj.id, [])

    def is_entity(self, stix_type: str) -> bool:
        return stix_type not in NOT_ENTITIES and not self.is_observable(stix_type)

    def is_observable(self, stix_type: str) -> bool:
        return self._mapping.is_observable(stix_type)

    def _kind(self, target: StixObject, fields: JsonFields) -> str:
        if target.type != "identity":
            return target.type
        identity_class = fields.text("identity_class")
        if identity_class is None:
            return "identity"
        where = fields.at("identity_class")
        return fields.lookup(where, identity_class, self._mapping.identity_kinds) or "identity"

    def _relationships(self) -> dict[str, list[tuple[str, list[Origin]]]]:
        """Both ends of every relationship in force; a revoked one no longer says anything."""
        links: dict[str, list[tuple[str, list[Origin]]]] = defaultdict(list)
        for obj in self._payload.objects:
            if obj.type != "relationship" or revoked(obj, self._ctx):
                continue
            fields = JsonFields(obj.raw, obj.where, self._ctx, frozenset())
            source, target = fields.required_text("source_ref"), fields.required_text("target_ref")
            markings = self._markings[obj.id]
            origins = [Origin(markings, "source_ref"), Origin(markings, "target_ref")]
            if source != target:
                links[source].append((target, origins))
                links[target].append((source, origins))
        return links


def revoked(obj: StixObject, ctx: TranslationContext) -> bool:
    value = obj.raw.get("revoked")
    if value is None:
        return False
    if not isinstance(value, bool):
        raise TranslationError(
            format=ctx.format,
            where=f"{obj.where}.revoked",
            reason=f"expected a boolean, found {json_type(value)}",
        )
    return value
