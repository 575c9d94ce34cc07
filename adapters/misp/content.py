"""An event's attributes, objects, reports and galaxies as a bulletin's indicators, text and
related entities.

Every element carries its own sharing controls, checked against the notice's: a deleted
element is dropped (MISP keeps it only to tell other instances it was revoked, which a
version-1 notice has no way to say); an element whose distribution reaches fewer than the
event's, or whose TLP tag is stricter than the notice's, is withheld. The hub's field markings
carry a level and caveats but no releasability, so they cannot narrow who receives one
indicator: withholding it is the only reading that cannot leak. Each drop is counted in the
context's unmapped counter under the element's path (``$.Event.Attribute[3]=withheld: ...``),
so it shows. A classification tag above the notice's level is what field markings are for:
the indicator is kept and marked (``indicators.[N]``), as is the text (``text``).

Event-level attributes of a narrative type (text, comment) are the bulletin's prose, not
indicators; inside an object they describe its other attributes (a file object's
``state: Malicious``). ``to_ids`` has no field of its own: an attribute MISP says is not for
detection says so in its indicator's description, so that no consumer blocks a news site's
link. Read but not mapped, having no field: categories, first/last seen, correlation flags,
sightings, proposals (ShadowAttribute), analyst notes, object references and templates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from adapters.misp.distribution import (
    Distribution,
    Markings,
    Marks,
    Scope,
    level_above,
    tlp_stricter,
)
from adapters.misp.fields import MispFields
from broker.models import Classification, FieldMarking, Indicator, Level, RelatedEntity

NOT_FOR_DETECTION = "context only, not for detection (to_ids false)"
_UNMARKED = Marks(tlp=None, level=None, caveats=(), verbatim=())
_LEVELS = tuple(Level)

_ATTRIBUTE_UNMAPPED = (
    "id",
    "uuid",
    "event_id",
    "event_uuid",
    "object_id",
    "timestamp",
    "category",
    "disable_correlation",
    "first_seen",
    "last_seen",
    "data",
    "value1",
    "value2",
    "ShadowAttribute",
    "Sighting",
    "RelatedAttribute",
    "Note",
    "Opinion",
    "Relationship",
)
_OBJECT_UNMAPPED = (
    "id",
    "uuid",
    "event_id",
    "timestamp",
    "description",
    "meta-category",
    "template_uuid",
    "template_version",
    "first_seen",
    "last_seen",
    "ObjectReference",
    "Note",
    "Opinion",
    "Relationship",
)


@dataclass(frozen=True)
class EventRules:
    """What every element of one event is judged against."""

    markings: Markings
    scope: Scope
    notice: Classification
    agency: str
    narrative_types: frozenset[str]


@dataclass
class Content:
    notice: Classification
    indicators: list[Indicator] = field(default_factory=list)
    field_markings: list[FieldMarking] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    related: list[RelatedEntity] = field(default_factory=list)
    _text_marks: list[Marks] = field(default_factory=list)

    @property
    def text(self) -> str | None:
        return "\n\n".join(self.paragraphs) or None

    def add_indicator(self, indicator: Indicator, marks: Iterable[Marks]) -> None:
        self._mark(f"indicators.[{len(self.indicators)}]", marks)
        self.indicators.append(indicator)

    def add_text(self, text: str, marks: Iterable[Marks]) -> None:
        self.paragraphs.append(text.replace("\r\n", "\n"))  # MISP's web forms write CRLF
        self._text_marks.extend(marks)

    def finish(self) -> None:
        self._mark("text", self._text_marks)
        self.related = list(dict.fromkeys(self.related))

    def _mark(self, path: str, marks: Iterable[Marks]) -> None:
        """A field marking where ``marks`` ask more than the notice: a higher level or caveats."""
        marks = list(marks)
        level = max((m.level for m in marks if m.level), key=_LEVELS.index, default=None)
        caveats = list(dict.fromkeys(c for m in marks for c in m.caveats))
        if level_above(level, self.notice.level) or not set(caveats) <= set(self.notice.caveats):
            self.field_markings.append(
                FieldMarking(path=path, level=level or self.notice.level, caveats=caveats)
            )


@dataclass(frozen=True)
class _Attribute:
    kind: str
    value: str
    comment: str | None
    relation: str | None
    to_ids: bool | None
    marks: Marks


def read_content(event: MispFields, rules: EventRules) -> Content:
    content = Content(rules.notice)
    for report in event.elements("EventReport"):
        _report(report, rules, content)
    for attribute in event.elements("Attribute"):
        _event_attribute(attribute, rules, content)
    for misp_object in event.elements("Object"):
        _object(misp_object, rules, content)
    content.related.extend(galaxies(event))
    content.finish()
    return content


def galaxies(element: MispFields) -> list[RelatedEntity]:
    """The galaxy clusters attached to an element: threat actors, tools, malware, techniques.

    A galaxy's definitions (descriptions, authors, synonyms, the cluster's own distribution)
    are reference data copied from the MISP galaxy library onto every instance, not part of
    the event: only what the attaching tag names is read, and the rest is not audited.
    """
    found = []
    for galaxy in element.elements("Galaxy"):
        galaxy_type = galaxy.text("type")
        for cluster in galaxy.elements("GalaxyCluster"):
            value = cluster.text("value")
            kind = cluster.text("type") or galaxy_type or "galaxy-cluster"
            if value:
                found.append(RelatedEntity(kind=kind, name=value, ref=cluster.text("uuid")))
    return found


def element_scope(element: MispFields, rules: EventRules) -> Scope:
    distribution = rules.markings.distribution(
        element.code("distribution"),
        where=element.at("distribution"),
        agency=rules.agency,
        inherit=True,
    )
    group = element.code("sharing_group_id")
    element.ignore("SharingGroup")  # only its id matters below an event, and that is above
    return Scope(distribution, group if distribution is Distribution.SHARING_GROUP else None)


def _admitted(element: MispFields, scope: Scope, marks: Marks, rules: EventRules) -> bool:
    if scope.narrower_than(rules.scope):
        label = f"distribution {int(scope.distribution)}"
        _withhold(element, f"{label} reaches fewer than the event's")
        return False
    if tlp_stricter(marks.tlp, rules.notice.tlp):
        _withhold(element, f"TLP {marks.tlp} is stricter than the notice's")
        return False
    return True


def _withhold(element: MispFields, why: str) -> None:
    element.report_unknown(element.path, f"withheld: {why}")


def _attribute(element: MispFields, rules: EventRules, content: Content) -> _Attribute | None:
    deleted = element.flag("deleted")
    kind = element.required_text("type")
    value = element.text("value")
    comment = element.text("comment")
    relation = element.text("object_relation")
    to_ids = element.flag("to_ids")
    scope = element_scope(element, rules)
    exported, local = element.tags()
    related = galaxies(element)
    element.ignore(*_ATTRIBUTE_UNMAPPED)
    element.audit()
    if deleted:
        _withhold(element, "deleted")
        return None
    marks = rules.markings.marks([*exported, *local])
    if value is None or not _admitted(element, scope, marks, rules):
        return None
    content.related.extend(related)
    return _Attribute(kind, value, comment, relation, to_ids, marks)


def _event_attribute(element: MispFields, rules: EventRules, content: Content) -> None:
    attribute = _attribute(element, rules, content)
    if attribute is None:
        return
    if attribute.kind in rules.narrative_types:
        text = "\n".join(part for part in (attribute.comment, attribute.value) if part)
        content.add_text(text, [attribute.marks])
    else:
        content.add_indicator(_indicator(attribute), [attribute.marks])


def _object(element: MispFields, rules: EventRules, content: Content) -> None:
    deleted = element.flag("deleted")
    name = element.required_text("name")
    comment = element.text("comment")
    scope = element_scope(element, rules)
    element.ignore(*_OBJECT_UNMAPPED)
    if deleted:
        _withhold(element, "deleted")
        return
    if not _admitted(element, scope, _UNMARKED, rules):
        return
    attributes = [
        attribute
        for child in element.elements("Attribute")
        if (attribute := _attribute(child, rules, content)) is not None
    ]
    element.audit()
    notes = [a for a in attributes if a.kind in rules.narrative_types]
    context = [f"{a.relation or a.kind}: {a.value}" for a in notes]
    observables = [a for a in attributes if a.kind not in rules.narrative_types]
    for attribute in observables:
        indicator = _indicator(attribute, name, comment, context)
        content.add_indicator(indicator, [attribute.marks, *(a.marks for a in notes)])
    if notes and not observables:
        text = "\n".join([f"{name}: {comment}" if comment else name, *context])
        content.add_text(text, [a.marks for a in notes])


def _report(element: MispFields, rules: EventRules, content: Content) -> None:
    """An event report: the originator's own write-up, in Markdown, the fullest text there is."""
    deleted = element.flag("deleted")
    name = element.text("name")
    body = element.text("content")
    scope = element_scope(element, rules)
    element.ignore("id", "uuid", "event_id", "timestamp")
    element.audit()
    if deleted:
        _withhold(element, "deleted")
    elif _admitted(element, scope, _UNMARKED, rules) and (name or body):
        content.add_text("\n\n".join(part for part in (name, body) if part), [])


def _indicator(
    attribute: _Attribute,
    object_name: str | None = None,
    object_comment: str | None = None,
    context: Iterable[str] = (),
) -> Indicator:
    """The attribute's own comment, and where it sits in its object (``file/sha1``) and why."""
    where = None
    if object_name:
        where = f"{object_name}/{attribute.relation}" if attribute.relation else object_name
    parts = [where, object_comment, attribute.comment, *context]
    if attribute.to_ids is False:
        parts.append(NOT_FOR_DETECTION)
    description = "; ".join(dict.fromkeys(part for part in parts if part))
    return Indicator(kind=attribute.kind, value=attribute.value, description=description or None)
