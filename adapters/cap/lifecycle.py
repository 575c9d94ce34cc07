"""An alert's place in its chain of messages: the notice it belongs to, and which version.

The hub keys a notice's versions by ``notice_id`` so that an UPDATE or CANCEL follows its
ALERT, in order, on one partition. A CAP message has no such id: each Update is a new message
(its own sender, identifier and sent) whose <references> list earlier ones. So the notice is
named after the oldest message referenced, the chain's first Alert as CAP senders normally
write it ("cap-" + sender in lower case + "," + identifier: senders are addresses, compared
without case; identifiers are opaque and kept verbatim), and the version is one more than the
number of messages referenced.

That holds when every Update references all earlier messages of its chain, as the senders
whose feeds we have seen do (NWS, Environment Canada, the tsunami warning centres). It breaks
when a sender references only the message just before: the version then comes out too low
and the notice is named after that message, so the update starts a notice of its own while
the first one stays in force until it expires. It also merges two chains into one
notice when a single Update supersedes several unrelated alerts, and treats a message that
references itself as not doing so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from adapters.cap import fields
from adapters.cap.reading import Alert
from adapters.xml_reader import XmlRecord
from broker.models import MsgType, NoticeReference, RelatedEntity


@dataclass(frozen=True)
class Reference:
    sender: str
    identifier: str
    sent: dt.datetime
    text: str

    @property
    def key(self) -> tuple[str, str]:
        return self.sender.casefold(), self.identifier


@dataclass(frozen=True)
class Lifecycle:
    notice_id: str
    version: int
    msg_type: MsgType
    references: list[NoticeReference] = field(default_factory=list)
    related: list[RelatedEntity] = field(default_factory=list)
    """Messages an Alert mentions: an Alert starts a notice, so they are not earlier versions."""


def notice_id(sender: str, identifier: str) -> str:
    return f"cap-{sender.casefold()},{identifier}"


def lifecycle(record: XmlRecord, alert: Alert, msg_type: MsgType) -> Lifecycle:
    references = _references(record, alert)
    if msg_type is MsgType.ALERT:
        related = [RelatedEntity(kind="cap-message", name=ref.text) for ref in references]
        return Lifecycle(notice_id(alert.sender, alert.identifier), 1, msg_type, related=related)
    if not references:
        raise record.error(
            f"missing: a CAP {msg_type.value.title()} must name the messages it supersedes",
            at="references",
        )
    root = notice_id(references[0].sender, references[0].identifier)
    earlier = [NoticeReference(notice_id=root, version=v) for v in range(1, len(references) + 1)]
    return Lifecycle(root, len(references) + 1, msg_type, references=earlier)


def _references(record: XmlRecord, alert: Alert) -> list[Reference]:
    """The distinct messages referenced, oldest first (document order among equals)."""
    try:
        tokens = fields.items(fields.line(record, "references"))
    except ValueError as err:
        raise (record.child("references") or record).error(str(err)) from err
    found: dict[tuple[str, str], Reference] = {}
    for token in tokens:
        reference = _reference(record, token)
        if reference.key != (alert.sender.casefold(), alert.identifier):
            found.setdefault(reference.key, reference)
    return sorted(found.values(), key=lambda reference: reference.sent)


def _reference(record: XmlRecord, token: str) -> Reference:
    parts = token.split(",")
    if len(parts) != 3 or not all(parts):
        raise (record.child("references") or record).error(
            f"{token!r} is not a message reference (sender,identifier,sent)"
        )
    sender, identifier, sent = parts
    try:
        return Reference(sender, identifier, fields.parse_instant(sent), token)
    except ValueError as err:
        raise (record.child("references") or record).error(f"in {token!r}: {err}") from err
