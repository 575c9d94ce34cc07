"""One STIX Domain Object read into a draft bulletin, property by property.

Properties are popped as they are mapped (``adapters.json_fields``), so whatever a producer
adds that nothing reads (custom ``x_`` properties, extensions) is counted as unmapped.
Which property feeds which field is data (mapping.yml); this module knows the shapes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from adapters.base import TranslationContext
from adapters.json_fields import JsonFields, json_type
from adapters.stix.bundle import StixObject, is_stix_id, timestamp
from adapters.stix.draft import Draft, Origin, Sourced
from adapters.stix.graph import Graph
from adapters.stix.markings import ObjectMarkings
from adapters.stix.observables import Observables
from adapters.stix.patterns import equalities
from adapters.stix.tables import StixMapping
from broker.models import Indicator

_READ_ELSEWHERE = (
    "type",
    "id",
    "spec_version",
    "created",
    "modified",
    "revoked",
    "object_marking_refs",
    "granular_markings",
)
"""Properties the payload reader, the envelope or the marking reader take."""


def read_draft(
    obj: StixObject, graph: Graph, mapping: StixMapping, ctx: TranslationContext
) -> Draft:
    fields = JsonFields(obj.raw, obj.where, ctx, frozenset())
    fields.ignore(*_READ_ELSEWHERE, *mapping.ignored_properties)
    own = graph.markings(obj)
    pattern, indicators = _pattern(fields, graph.observables)
    title = _first_text(fields, own, mapping.title_properties) or (
        Sourced(pattern, [Origin(own, "pattern")])
        if pattern
        else Sourced(obj.id, [Origin(own, "id")])
    )
    draft = Draft(own=own, title=title)
    for indicator in indicators:
        draft.indicator(indicator, [draft.origin("pattern")])
    draft.text = _first_text(fields, own, mapping.text_properties)
    draft.summary = _summary(obj, fields, draft, mapping)
    _topics(fields, draft, mapping)
    _references(obj, fields, draft, graph, mapping)
    _embedded_observables(obj, fields, draft, graph.observables)
    _author(fields, draft, graph)
    _linked(obj, draft, graph)
    draft.valid_from = _first_time(obj, fields, draft, mapping.valid_from_properties, ctx)
    draft.valid_until = _first_time(obj, fields, draft, mapping.valid_until_properties, ctx)
    draft.information_credibility = _credibility(obj, fields, draft, mapping)
    fields.child("extensions").audit()
    fields.audit()
    return draft


def _pattern(fields: JsonFields, observables: Observables) -> tuple[str | None, list[Indicator]]:
    """An indicator's pattern, and the indicators it makes: its values, or itself verbatim.

    A pattern in another language (pattern_type yara, snort, sigma...) is one indicator of
    that kind; a STIX pattern that is not a plain list of values is one of kind stix-pattern.
    """
    pattern = fields.text("pattern")
    pattern_type = fields.text("pattern_type") or "stix"
    if pattern is None:
        return None, []
    if pattern_type.lower() != "stix":
        return pattern, [Indicator(kind=pattern_type, value=pattern)]
    comparisons = equalities(pattern) or []
    where = fields.at("pattern")
    kinds = [observables.kind(c.object_type, c.path, where, subset=c.subset) for c in comparisons]
    if not comparisons or None in kinds:
        return pattern, [Indicator(kind="stix-pattern", value=pattern)]
    return pattern, [
        Indicator(kind=str(kind), value=comparison.value)
        for kind, comparison in zip(kinds, comparisons, strict=True)
    ]


def _first_text(
    fields: JsonFields, own: ObjectMarkings, keys: tuple[str, ...]
) -> Sourced[str] | None:
    """The first of ``keys`` present; the others stay unread, so a second one is counted."""
    for key in keys:
        text = fields.text(key)
        if text is not None:
            return Sourced(text, [Origin(own, key)])
    return None


def _summary(
    obj: StixObject, fields: JsonFields, draft: Draft, mapping: StixMapping
) -> Sourced[str] | None:
    """Labelled lines for the properties a bulletin has no field for ("Aliases: ...")."""
    lines: list[str] = []
    origins: list[Origin] = []
    for key, label in mapping.summary_properties.items():
        value = _words(obj.raw.get(key), fields, key)
        fields.ignore(key)
        if value:
            lines.append(f"{label}: {value}")
            origins.append(draft.origin(key))
    return Sourced("\n".join(lines), origins) if lines else None


def _words(value: Any, fields: JsonFields, key: str) -> str | None:
    """A text, number, boolean or list of texts, written out; blank means absent."""
    if isinstance(value, list):
        words = [
            _word(item, fields, f"{fields.at(key)}[{index}]") for index, item in enumerate(value)
        ]
        return ", ".join(word for word in words if word) or None
    return _word(value, fields, fields.at(key))


def _word(value: Any, fields: JsonFields, where: str) -> str | None:
    match value:
        case None:
            return None
        case bool():
            return "yes" if value else "no"
        case int() | float() | str():
            return str(value).strip() or None
        case _:
            raise fields.error(
                where, f"expected a text, number or boolean, found {json_type(value)}"
            )


def _topics(fields: JsonFields, draft: Draft, mapping: StixMapping) -> None:
    """Labels and type vocabularies, then kill-chain phases and external ids, as keywords."""
    for key in mapping.topic_properties:
        for where, text in fields.texts(key):
            draft.topic(text, draft.origin(f"{key}.{_index(where)}"))
    for index, phase in enumerate(fields.children("kill_chain_phases")):
        chain, name = phase.required_text("kill_chain_name"), phase.required_text("phase_name")
        phase.audit()
        draft.topic(f"{chain}:{name}", draft.origin(f"kill_chain_phases.[{index}]"))
    for index, reference in enumerate(fields.children("external_references")):
        source, external_id = reference.text("source_name"), reference.text("external_id")
        reference.ignore("url", "description", "hashes")  # links elsewhere, not keywords
        reference.audit()
        if external_id is not None:
            topic = f"{source}:{external_id}" if source else external_id
            draft.topic(topic, draft.origin(f"external_references.[{index}]"))


def _references(
    obj: StixObject, fields: JsonFields, draft: Draft, graph: Graph, mapping: StixMapping
) -> None:
    """Referenced observables become indicators, other referenced objects related entities."""
    for key in mapping.reference_properties:
        for selector, where, ref in _refs(obj, fields, key):
            _point_to(ref, [draft.origin(selector)], draft, graph, fields, where)


def _author(fields: JsonFields, draft: Draft, graph: Graph) -> None:
    """The identity that made the object, as the related entity of kind "author"."""
    ref = fields.text("created_by_ref")
    if ref is not None:
        _check_ref(fields, fields.at("created_by_ref"), ref)
        entity, origins = graph.entity(ref, kind="author")
        draft.related(entity, [draft.origin("created_by_ref"), *origins])


def _linked(obj: StixObject, draft: Draft, graph: Graph) -> None:
    """The other ends of the object's relationships (observables among them as indicators)."""
    for ref, origins in graph.linked(obj):
        _point_to(ref, origins, draft, graph, None, obj.where)


def _point_to(
    ref: str,
    origins: list[Origin],
    draft: Draft,
    graph: Graph,
    fields: JsonFields | None,
    where: str,
) -> None:
    stix_type = ref.partition("--")[0]
    if graph.is_entity(stix_type):
        entity, name_origins = graph.entity(ref)
        draft.related(entity, [*origins, *name_origins])
        return
    observed = graph.observed(ref) if graph.is_observable(stix_type) else None
    if observed is None:
        if fields is not None and graph.is_observable(stix_type):
            fields.report_unknown(where, ref)  # an observable the payload does not hold
        return
    target, found = observed
    for item in found:
        draft.indicator(item.indicator, [*origins, Origin(graph.markings(target), item.selector)])


def _embedded_observables(
    obj: StixObject, fields: JsonFields, draft: Draft, observables: Observables
) -> None:
    """STIX 2.0 observed data holds its observables inline, keyed "0", "1"..."""
    embedded = fields.child("objects")
    for key, value in (obj.raw.get("objects") or {}).items():
        where = embedded.at(key)
        if not isinstance(value, dict):
            raise fields.error(where, f"expected an object, found {json_type(value)}")
        for item in observables.indicators(value, where):
            draft.indicator(item.indicator, [draft.origin(f"objects.{key}")])


def _first_time(
    obj: StixObject,
    fields: JsonFields,
    draft: Draft,
    keys: tuple[str, ...],
    ctx: TranslationContext,
) -> Sourced[dt.datetime] | None:
    """The first of ``keys`` present, as a UTC instant."""
    for key in keys:
        moment = timestamp(ctx, obj.raw.get(key), fields.at(key))
        if moment is not None:
            fields.ignore(key)
            return Sourced(moment, [draft.origin(key)])
    return None


def _credibility(
    obj: StixObject, fields: JsonFields, draft: Draft, mapping: StixMapping
) -> Sourced[int] | None:
    """STIX confidence (0-100) on the Admiralty credibility scale, as STIX 2.1 maps them."""
    value = obj.raw.get("confidence")
    fields.ignore("confidence")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise fields.error(fields.at("confidence"), f"{value!r} is no confidence (0 to 100)")
    return Sourced(mapping.credibility(value), [draft.origin("confidence")])


def _refs(obj: StixObject, fields: JsonFields, key: str) -> list[tuple[str, str, str]]:
    """(selector, JSON path, id) of each reference in a *_ref or *_refs property."""
    if isinstance(obj.raw.get(key), list):
        refs = [(f"{key}.{_index(where)}", where, ref) for where, ref in fields.texts(key)]
    else:
        ref = fields.text(key)
        refs = [] if ref is None else [(key, fields.at(key), ref)]
    for _, where, ref in refs:
        _check_ref(fields, where, ref)
    return refs


def _check_ref(fields: JsonFields, where: str, ref: str) -> None:
    if not is_stix_id(ref):
        raise fields.error(where, f"{ref!r} is not a STIX id")


def _index(where: str) -> str:
    """The selector form ("[3]") of the list index that ends a JSON path ("$.labels[3]")."""
    return where[where.rindex("[") :]
