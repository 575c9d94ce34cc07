"""One MISP event as one notice: its identity, lifecycle, dates, grading and topics.

The notice is ``misp-<event uuid>``: the uuid is the one identifier MISP keeps for an event
across every instance it travels through. MISP keeps no version counter, so every event is a
version-1 ALERT, whatever its edits; a deletion announced by the ZeroMQ or Kafka plugins
(``action: delete``) is a CANCEL of it, issued when received (the event's own timestamp is its
last edit, not its deletion). Otherwise issued_at is the last publication when the event is
published, else its last change. ``date``, when the event occurred, opens the bulletin's
validity. Orgc, the organisation that wrote the event, is a related entity of kind
``reporting-organisation``: the notice's originator stays the agency that published it here.

Deliberately left out: Org (the instance that holds the event, which says nothing about it),
RelatedEvent (the exporting instance's own correlations, whose titles may be more restricted
than this event), event_creator_email (a person's address), instance-local ids and counters,
locks, sightings, proposals and analyst notes.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from adapters.base import Adapter, TranslationContext
from adapters.json_fields import json_type
from adapters.markings import fold
from adapters.misp.content import EventRules, read_content
from adapters.misp.distribution import Distribution, Markings, Scope, Tag
from adapters.misp.fields import MispFields
from adapters.misp.sharing_groups import SharingGroup, SharingGroupFault, parse_sharing_group
from broker.errors import UnknownMarking
from broker.models import (
    IntelBulletin,
    MsgType,
    NoticeEnvelope,
    NoticeReference,
    NoticeType,
    RelatedEntity,
    ThreatLevel,
)

if TYPE_CHECKING:
    from adapters.misp.translate import MispMapping

G = TypeVar("G")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_EPOCH = re.compile(r"\d{1,12}")
_EVENT_UNMAPPED = (
    "id",
    "org_id",
    "orgc_id",
    "user_id",
    "attribute_count",
    "event_creator_email",
    "locked",
    "proposal_email_lock",
    "disable_correlation",
    "sighting_timestamp",
    "first_publication",
    "protected",
    "Org",
    "RelatedEvent",
    "ShadowAttribute",
    "Sighting",
    "CryptographicKey",
    "Note",
    "Opinion",
    "Relationship",
)
_ORGANISATION_DIRECTORY = (
    "id",
    "local",
    "type",
    "sector",
    "nationality",
    "description",
    "date_created",
    "date_modified",
    "created_by",
    "contacts",
    "landingpage",
    "restricted_to_domain",
)
"""What an instance's organisation directory adds to Orgc: about the organisation, not the event."""


class EventReader:
    """One event, read field by field; ``wrapper`` may hold its action, tags and Orgc beside it."""

    def __init__(
        self,
        event: MispFields,
        wrapper: MispFields | None,
        ctx: TranslationContext,
        mapping: MispMapping,
        markings: Markings,
    ) -> None:
        self.event, self.wrapper, self.ctx = event, wrapper, ctx
        self.mapping, self.markings = mapping, markings
        self.agency = ctx.originator.agency_id

    def envelope(self, adapter: Adapter) -> NoticeEnvelope:
        event = self.event
        event_uuid = self._uuid()
        msg_type = self._msg_type()
        exported, local = self._tags()
        marks = self.markings.marks([*exported, *local])
        scope, group = self._scope()
        classification, unknown = self.markings.classification(marks, scope, group, self.agency)
        for member in unknown:
            event.report_unknown(event.at("sharing_group_id"), member)
        rules = EventRules(
            self.markings, scope, classification, self.agency, self.mapping.narrative_types
        )
        content = read_content(event, rules)
        published = event.flag("published")
        creator = self._reporter()
        bulletin = self._bulletin(exported, local, published, creator) | {
            "text": content.text,
            "indicators": content.indicators,
            "related_entities": self._related(creator, content.related),
        }
        cancel = msg_type is MsgType.CANCEL
        issued_at = self.ctx.received_at if cancel else self._issued_at(published)
        event.ignore(*_EVENT_UNMAPPED)
        event.audit()
        if self.wrapper is not None:
            self.wrapper.audit()
        notice_id = f"misp-{event_uuid}"
        try:
            return NoticeEnvelope(
                notice_id=notice_id,
                version=2 if cancel else 1,
                msg_type=msg_type,
                references=[NoticeReference(notice_id=notice_id, version=1)] if cancel else [],
                notice_type=NoticeType.INTEL_BULLETIN,
                originator=self.ctx.originator,
                issued_at=issued_at,
                classification=classification.model_copy(
                    update={"field_markings": content.field_markings}
                ),
                source=self.ctx.source(adapter, original_id=event_uuid),
                body=IntelBulletin.model_validate(bulletin),
            )
        except ValidationError as err:
            problem = err.errors()[0]
            where = ".".join(str(part) for part in problem["loc"])
            raise event.error(event.path, f"not a valid notice: {where}: {problem['msg']}") from err

    def _bulletin(
        self,
        exported: list[Tag],
        local: list[Tag],
        published: bool | None,
        creator: RelatedEntity | None,
    ) -> dict[str, Any]:
        """The bulletin's fields that the event itself holds, rather than its elements.

        The summary says, for triage, what no field holds: who wrote it, when it happened, how
        far the analysis went and whether MISP has published it or it is still a draft.
        """
        event = self.event
        threat, threat_label = self._threat_level()
        date = self._date()
        summary = (
            creator.name if creator else None,
            date.date().isoformat() if date else None,
            f"threat level {threat_label}",
            f"analysis {self._analysis()}",
            "published" if published else "not published",
        )
        return {
            "title": event.required_text("info"),
            "summary": "; ".join(part for part in summary if part),
            "threat_level": threat,
            "topics": self._topics(exported),
            "source_reliability": self._grade([*exported, *local], self.mapping.source_reliability),
            "information_credibility": self._grade(
                [*exported, *local], self.mapping.information_credibility
            ),
            "valid_from": date,
        }

    def _uuid(self) -> str:
        text = self.event.required_text("uuid")
        try:
            return str(uuid.UUID(text))
        except ValueError as err:
            raise self.event.error(self.event.at("uuid"), f"{text!r} is not a UUID") from err

    def _msg_type(self) -> MsgType:
        if self.wrapper is None or (action := self.wrapper.text("action")) is None:
            return MsgType.ALERT
        found = self.mapping.actions.get(action)
        if found is None:
            known = ", ".join(self.mapping.actions)
            raise self.wrapper.error(
                self.wrapper.at("action"), f"{action!r} is not an action MISP publishes ({known})"
            )
        return found

    def _sides(self) -> list[MispFields]:
        """The event, then its wrapper: the plugins put Orgc and tags beside the event."""
        return [self.event] if self.wrapper is None else [self.event, self.wrapper]

    def _tags(self) -> tuple[list[Tag], list[Tag]]:
        exported: list[Tag] = []
        local: list[Tag] = []
        for side in self._sides():
            found = side.tags()
            exported.extend(found[0])
            local.extend(found[1])
        return exported, local

    def _scope(self) -> tuple[Scope, SharingGroup | None]:
        """The event's distribution, and for a sharing group the group itself.

        The group's definition comes from the event when it carries one inline (MISP exports
        do), else from mapping.yml; one that is neither, or an inline one that contradicts
        sharing_group_id, is an unknown marking: whom it reaches cannot be known.
        """
        event = self.event
        distribution = self.markings.distribution(
            event.code("distribution"),
            where=event.at("distribution"),
            agency=self.agency,
            inherit=False,
        )
        group_id = event.code("sharing_group_id")
        inline = self._inline_group()
        if distribution is not Distribution.SHARING_GROUP:
            return Scope(distribution), None
        if inline is not None and group_id not in (None, "0", inline[0]):
            raise UnknownMarking(
                format=self.ctx.format,
                where=event.at("sharing_group_id"),
                marking=f"{group_id}, but the event's SharingGroup is {inline[0]}",
                scheme="MISP sharing group",
            )
        group_id = inline[0] if inline is not None else group_id
        group = self.markings.sharing_group(
            group_id,
            inline[1] if inline else None,
            where=event.at("sharing_group_id"),
            agency=self.agency,
        )
        return Scope(distribution, group_id), group

    def _inline_group(self) -> tuple[str, SharingGroup] | None:
        for side in self._sides():
            value = side.raw("SharingGroup")
            if isinstance(value, dict) and value.get("id") not in (None, "", "0", 0):
                try:
                    return parse_sharing_group(value, side.at("SharingGroup"))
                except SharingGroupFault as fault:
                    raise side.error(fault.where, fault.reason) from fault
            if value not in (None, [], {}) and not isinstance(value, dict):
                raise side.error(
                    side.at("SharingGroup"), f"expected an object, found {json_type(value)}"
                )
        return None

    def _related(
        self, creator: RelatedEntity | None, found: list[RelatedEntity]
    ) -> list[RelatedEntity]:
        """Who wrote the event, what its elements' galaxies name, and the event it extends."""
        related = [*([creator] if creator else []), *found]
        extends = self.event.text("extends_uuid")
        if extends:
            try:
                parent = str(uuid.UUID(extends))
            except ValueError:
                self.event.report_unknown(self.event.at("extends_uuid"), extends)
            else:
                related.append(RelatedEntity(kind="misp-event", name=parent, ref=f"misp-{parent}"))
        return list(dict.fromkeys(related))

    def _reporter(self) -> RelatedEntity | None:
        """Orgc, the organisation that created the event: whose analysis this is."""
        found = []
        for side in self._sides():
            creator = side.child("Orgc")
            name, org_uuid = creator.text("name"), creator.text("uuid")
            creator.ignore(*_ORGANISATION_DIRECTORY)
            creator.audit()
            if name:
                found.append(RelatedEntity(kind="reporting-organisation", name=name, ref=org_uuid))
        return found[0] if found else None

    def _threat_level(self) -> tuple[ThreatLevel, str]:
        code = self.event.code("threat_level_id")
        if code is None:
            return ThreatLevel.UNKNOWN, "undefined"
        rule = self.event.lookup(self.event.at("threat_level_id"), code, self.mapping.threat_levels)
        return (rule.level, rule.label) if rule else (ThreatLevel.UNKNOWN, code)

    def _analysis(self) -> str:
        code = self.event.code("analysis")
        if code is None:
            return "not stated"
        return self.event.lookup(self.event.at("analysis"), code, self.mapping.analysis) or code

    def _date(self) -> dt.datetime | None:
        """The date the event occurred: from then on the assessment holds."""
        text = self.event.text("date")
        if text is None:
            return None
        match = _DATE.fullmatch(text)
        try:
            if match is None:
                raise ValueError("not YYYY-MM-DD")
            year, month, day = (int(part) for part in match.groups())
            return dt.datetime(year, month, day, tzinfo=dt.UTC)
        except ValueError as err:
            raise self.event.error(self.event.at("date"), f"{text!r} is not a date: {err}") from err

    def _issued_at(self, published: bool | None) -> dt.datetime:
        """The last publication of a published event, else its last change, else receipt."""
        changed = self._epoch("timestamp")
        publication = self._epoch("publish_timestamp")
        return (publication if published else None) or changed or self.ctx.received_at

    def _epoch(self, key: str) -> dt.datetime | None:
        """Seconds since 1970 as MISP writes them, "0" meaning never."""
        text = self.event.code(key)
        if text is None:
            return None
        try:
            if not _EPOCH.fullmatch(text):
                raise ValueError("not a count of seconds since 1970")
            seconds = int(text)
            return dt.datetime.fromtimestamp(seconds, dt.UTC) if seconds else None
        except (ValueError, OverflowError, OSError) as err:
            raise self.event.error(self.event.at(key), f"{text!r}: {err}") from err

    def _topics(self, exported: list[Tag]) -> list[str]:
        """Every exported tag but the markings and the gradings, as MISP writes it.

        Taxonomy and galaxy machine tags (``osint:source-type="blog-post"``,
        ``misp-galaxy:threat-actor="Sofacy"``) are the vocabulary MISP communities search by.
        """
        graded = (
            self.mapping.source_reliability.keys() | self.mapping.information_credibility.keys()
        )
        grading = {fold(tag).partition(":")[0] for tag in graded}
        topics = (
            tag.name
            for tag in exported
            if not self.markings.is_marking(tag.name)
            and fold(tag.name).partition(":")[0] not in grading
        )
        return list(dict.fromkeys(topics))

    def _grade(self, tags: list[Tag], table: dict[str, G]) -> G | None:
        """An Admiralty grade from admiralty-scale tags; an unknown or disputed one is counted."""
        folded = {fold(key): value for key, value in table.items()}
        namespace_predicate = {fold(key).partition("=")[0] for key in table}
        grades = []
        for tag in tags:
            key = fold(tag.name)
            if key.partition("=")[0] not in namespace_predicate:
                continue
            if key in folded:
                grades.append((tag, folded[key]))
            else:
                self.event.report_unknown(tag.where, tag.name)
        if len({grade for _, grade in grades}) > 1:
            for tag, _ in grades:
                self.event.report_unknown(tag.where, f"{tag.name} (disputed)")
            return None
        return grades[0][1] if grades else None
