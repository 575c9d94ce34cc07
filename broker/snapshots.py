"""Lifecycle from list snapshots: ALERT for a new entry, UPDATE for a changed one, CANCEL for
one that vanished. Pure: no Kafka.

Sanctions lists (UN, OFAC, EU, UK) publish whole snapshots and never say what changed; a
delisting is an entry that is simply absent from the next snapshot. Comparing each snapshot
with the state the previous one left (one ``ListedEntry`` per notice, kept in a compacted
Kafka topic by the loader) turns snapshots into the hub's lifecycle. Re-reading the same
snapshot changes nothing and emits nothing.

What counts as a change is the content a recipient sees: body, classification and validity.
Provenance (received_at, the file's digest) and the list's own timestamps differ between two
downloads of an unchanged list and must not make every entry an UPDATE.

An entry that appears twice in one snapshot keeps its first occurrence and the second is
counted, so that a re-run cannot flip between the two.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping

import orjson
from pydantic import BaseModel, ConfigDict

from broker.models import (
    Body,
    Classification,
    FreezeOrder,
    IntelBulletin,
    ListedSubject,
    MsgType,
    NoticeEnvelope,
    NoticeReference,
    NoticeType,
    Originator,
    PersonSubject,
    Source,
    WantedPersonNotice,
)


class ListedEntry(BaseModel):
    """What the state remembers of one list entry: enough to detect a change and to cancel it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    list_id: str
    version: int
    digest: str
    notice_type: NoticeType
    classification: Classification
    summary: FreezeOrder | WantedPersonNotice | IntelBulletin
    """The entry's identity (names, listing reference), carried by its CANCEL."""


def content_digest(notice: NoticeEnvelope) -> str:
    content = notice.model_dump(
        mode="json", include={"body", "classification", "not_before", "expires_at"}
    )
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


class SnapshotDiff:
    """One snapshot of one list, compared entry by entry with the state before it."""

    def __init__(self, list_id: str, previous: Mapping[str, ListedEntry]) -> None:
        self.list_id = list_id
        self._previous = {k: v for k, v in previous.items() if v.list_id == list_id}
        self._seen: set[str] = set()
        self.changes: dict[str, ListedEntry | None] = {}
        """State to write: the new entry per notice id, or None for a delisting (tombstone)."""
        self.unchanged = 0
        self.duplicates = 0

    def entry(self, notice: NoticeEnvelope) -> NoticeEnvelope | None:
        """The notice to publish for this entry (ALERT or UPDATE), or None if nothing changed."""
        if notice.notice_id in self._seen:
            self.duplicates += 1
            return None
        self._seen.add(notice.notice_id)
        digest = content_digest(notice)
        before = self._previous.get(notice.notice_id)
        if before is not None and before.digest == digest:
            self.unchanged += 1
            return None
        if before is None:
            published = notice.model_copy(
                update={"version": 1, "msg_type": MsgType.ALERT, "references": []}
            )
        else:
            published = notice.model_copy(
                update={
                    "version": before.version + 1,
                    "msg_type": MsgType.UPDATE,
                    "references": [
                        NoticeReference(notice_id=notice.notice_id, version=before.version)
                    ],
                }
            )
        self.changes[notice.notice_id] = ListedEntry(
            list_id=self.list_id,
            version=published.version,
            digest=digest,
            notice_type=notice.notice_type,
            classification=notice.classification,
            summary=_summary(notice.body),
        )
        return published

    def vanished(
        self, *, originator: Originator, source: Source, now: dt.datetime
    ) -> list[NoticeEnvelope]:
        """CANCELs for every entry of the list that this snapshot no longer has.

        Call once the whole snapshot was read: an interrupted read must not delist the rest.
        """
        cancels = []
        for notice_id, before in sorted(self._previous.items()):
            if notice_id in self._seen:
                continue
            cancels.append(
                NoticeEnvelope(
                    notice_id=notice_id,
                    version=before.version + 1,
                    msg_type=MsgType.CANCEL,
                    references=[NoticeReference(notice_id=notice_id, version=before.version)],
                    notice_type=before.notice_type,
                    originator=originator,
                    issued_at=now,
                    classification=before.classification,
                    source=source,
                    body=before.summary,
                )
            )
            self.changes[notice_id] = None
        return cancels


def _summary(body: Body) -> FreezeOrder | WantedPersonNotice | IntelBulletin:
    """The body cut down to what identifies the entry, for the CANCEL of a delisting."""
    match body:
        case FreezeOrder():
            return FreezeOrder(
                legal_basis=body.legal_basis,
                listing_reference=body.listing_reference,
                programmes=body.programmes,
                subject=ListedSubject(kind=body.subject.kind, names=body.subject.names),
                listed_on=body.listed_on,
            )
        case WantedPersonNotice():
            return WantedPersonNotice(
                subject=PersonSubject(names=body.subject.names),
                action_requested=body.action_requested,
            )
        case IntelBulletin():
            return IntelBulletin(title=body.title)
