"""What the sanctions-list adapters share: one list entry in, one freeze order out.

Sanctions lists are snapshots of every listing in force, published as one large XML file. The
UN and EU adapters stream them entry by entry (``adapters.xml_reader``) and build the same
canonical subject from each, with the same conventions so that one person listed by both
reads the same: a name's parts joined by single spaces in the list's order, the script of
each spelling detected from its letters, dates exactly as precise as the list gives them.
OFAC's and the UK's lists, read by their own readers, share those conventions and the
envelope (their per-list rules are in ``adapters.published_lists``).

A snapshot carries no lifecycle: every entry becomes a version 1 ALERT whose notice id is
stable across snapshots, and a later stage turns differences between snapshots into UPDATEs
and CANCELs. That is why a snapshot with no entries at all is refused rather than
translated: it would read downstream as every listing withdrawn.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import ClassVar, Generic, Literal, Protocol, TypeVar

from lxml import etree
from pydantic import ValidationError

from adapters.base import Adapter, TranslationContext
from adapters.markings import fold
from adapters.partial_dates import parse_partial_date
from adapters.xml_reader import XmlRecord, iter_records
from broker.errors import TranslationError
from broker.models import (
    Classification,
    FreezeOrder,
    MsgType,
    Name,
    NoticeEnvelope,
    NoticeType,
    PartialDate,
    Source,
)

H = TypeVar("H", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")
M = TypeVar("M", bound="_Classified")

DocumentKind = Literal[
    "PASSPORT", "NATIONAL_ID", "TAX_ID", "REGISTRATION_NUMBER", "IMO_NUMBER", "OTHER"
]
"""The identity document kinds of the canonical schema (IdentityDocument.kind)."""

# The first word of a letter's Unicode name, for the scripts names on sanctions lists use,
# to its ISO 15924 code. Letters of other scripts (and signs such as MICRO SIGN, which lists
# type for Greek mu) are not counted either way.
_SCRIPTS = MappingProxyType(
    {
        "LATIN": "Latn",
        "CYRILLIC": "Cyrl",
        "GREEK": "Grek",
        "ARABIC": "Arab",
        "HEBREW": "Hebr",
        "SYRIAC": "Syrc",
        "THAANA": "Thaa",
        "ARMENIAN": "Armn",
        "GEORGIAN": "Geor",
        "DEVANAGARI": "Deva",
        "BENGALI": "Beng",
        "GURMUKHI": "Guru",
        "GUJARATI": "Gujr",
        "TAMIL": "Taml",
        "SINHALA": "Sinh",
        "THAI": "Thai",
        "LAO": "Laoo",
        "KHMER": "Khmr",
        "MYANMAR": "Mymr",
        "TIBETAN": "Tibt",
        "MONGOLIAN": "Mong",
        "ETHIOPIC": "Ethi",
        "HANGUL": "Hang",
        "HIRAGANA": "Hira",
        "KATAKANA": "Kana",
        "CJK": "Hani",
    }
)
_JAPANESE = frozenset({"Hani", "Hira", "Kana"})
# Bidirectional controls and byte order marks that right-to-left names carry invisibly;
# zero-width non-joiners stay, since Persian spelling needs them.
_INVISIBLE = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
# xs:date may end in a time zone ("1960-01-01-05:00"); a calendar date has none.
_XSD_ZONE = re.compile(r"(?<=^\d{4}-\d{2}-\d{2})(?:Z|[+-]\d{2}:\d{2})$")


def clean_name(text: str | None) -> str | None:
    """A name as the list spells it, without invisible controls or runs of spaces."""
    if text is None:
        return None
    return " ".join(_INVISIBLE.sub("", text).split()) or None


def joined(*parts: str | None) -> str | None:
    """Parts that are present, joined by single spaces in the order given."""
    return " ".join(part for part in parts if part) or None


def one_line(*parts: str | None) -> str | None:
    """Parts of a place or address that are present, comma-separated in the order given."""
    return ", ".join(part for part in parts if part) or None


def script_of(text: str) -> str | None:
    """The ISO 15924 script of a spelling, or None when it mixes scripts or has no letters.

    Japanese mixes kana and kanji, and Korean hangul and hanja, within one spelling: those
    mixtures are one writing system (Jpan, Kore).
    """
    scripts = {_script(char) for char in set(text) if char.isalpha()} - {None}
    if len(scripts) == 1:
        return scripts.pop()
    if scripts <= _JAPANESE and scripts & {"Hira", "Kana"}:
        return "Jpan"
    if scripts == {"Hang", "Hani"}:
        return "Kore"
    return None


@functools.lru_cache(maxsize=4096)
def _script(char: str) -> str | None:
    """Memoised (performance, issue #7): looking each letter's Unicode name up again was a
    tenth of reading a UN entry, and a list spells its names in a few hundred letters."""
    return _SCRIPTS.get(unicodedata.name(char, "").split(" ", 1)[0])


def make_name(
    full_name: str | None,
    *,
    given_names: str | None = None,
    family_name: str | None = None,
    lang: str | None = None,
) -> Name | None:
    """A canonical name with its script, or None for a blank one."""
    full = clean_name(full_name)
    if full is None:
        return None
    return Name(
        full_name=full,
        given_names=clean_name(given_names),
        family_name=clean_name(family_name),
        script=script_of(full),
        lang=lang,
    )


def unique(items: Iterable[H]) -> list[H]:
    """Items in their first order, repeats dropped: lists repeat dates and countries."""
    return list(dict.fromkeys(items))


def report_unknown(ctx: TranslationContext, record: XmlRecord, at: str, value: str) -> None:
    """Count a value nothing could map, under a path without positions so counters stay few."""
    ctx.unmapped[f"{record.path_pattern}/{at}={value}"] += 1


def lookup(
    ctx: TranslationContext, record: XmlRecord, at: str, value: str | None, table: Mapping[str, V]
) -> V | None:
    """The table's value for a code; a code the table lacks is counted, never guessed."""
    if value is None:
        return None
    found = table.get(value)
    if found is None:
        report_unknown(ctx, record, at, value)
    return found


@dataclass(frozen=True)
class FoldedLookups(Generic[T]):
    """The adapter's tables plus the payload's context, which counts what the tables lack.

    Codes are looked up folded, as markings are (case, accents, separators), because a
    publisher spells one code several ways across years.
    """

    ctx: TranslationContext
    tables: T

    def code_of(
        self, record: XmlRecord, name: str, value: str | None, table: Mapping[str, V]
    ) -> V | None:
        """The table's value for ``value`` (read from ``name``); a value it lacks is counted."""
        if value is None:
            return None
        found = table.get(fold(value))
        if found is None:
            self.unknown(record, name, value)
        return found

    def unknown(self, record: XmlRecord, name: str, value: str) -> None:
        self.ctx.report_unmapped(record.path_pattern, {f"{name}={value}"})


def partial_date(
    record: XmlRecord, at: str, text: str, *, approximate: bool = False
) -> PartialDate:
    """A date as precise as written (a year, a month, a day); ``at`` names the field."""
    try:
        found = parse_partial_date(_XSD_ZONE.sub("", text.strip()))
    except ValueError as err:
        raise record.error(str(err), at=at) from err
    if approximate and not found.approximate:
        return PartialDate(year=found.year, month=found.month, day=found.day, approximate=True)
    return found


def calendar_date(record: XmlRecord, at: str, text: str) -> dt.date:
    """A full date (listing and amendment dates are never partial)."""
    found = partial_date(record, at, text)
    if found.month is None or found.day is None or found.approximate:
        raise record.error(f"{text!r} is not a full date (YYYY-MM-DD)", at=at)
    return dt.date(found.year, found.month, found.day)


def generated_at(
    ctx: TranslationContext, record: XmlRecord, root: str, attribute: str
) -> dt.datetime | None:
    """When the list of ``record`` says it was generated (a root attribute), in UTC; None
    when it does not.

    An unreadable value is counted, and the listings fall back on their receipt time.
    """
    text = record.root_attributes().get(attribute)
    if text is None:
        return None
    try:
        found = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        found = None
    if found is None or found.tzinfo is None:
        ctx.unmapped[f"/{root}/@{attribute}={text}"] += 1
        return None
    return found.astimezone(dt.UTC)


def issued_at(
    day: dt.date | None, received: dt.datetime, generated: dt.datetime | None = None
) -> dt.datetime:
    """When a listing was issued: the day the list dates it (at 00:00 UTC, lists give no
    time), else when the list was generated, else when it was received."""
    if day is not None:
        return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    return generated or received


def entry_digest(record: XmlRecord) -> str:
    """The entry's own digest, its provenance; lxml refuses to serialise a few malformed
    entries, and those are placed at the entry rather than failing the whole list."""
    try:
        return record.sha256()
    except etree.LxmlError as err:
        raise record.error(f"cannot be canonicalised for its digest: {err}") from err


def validation_summary(err: ValidationError) -> str:
    """Every field pydantic refused, by its path in the notice, for a dead letter's reason."""
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())


def freeze_notice(
    ctx: TranslationContext,
    adapter: Adapter,
    *,
    notice_id: str,
    original_id: str,
    issued: dt.datetime,
    classification: Classification,
    body: FreezeOrder,
    sha256: str,
) -> NoticeEnvelope:
    """The envelope of one listing. Its digest is the listing's own, not the whole list's,
    so that a listing keeps its digest when others change."""
    source = Source(
        format=ctx.format,
        original_id=original_id,
        adapter=adapter.name,
        adapter_version=adapter.version,
        received_at=ctx.received_at,
        sha256=sha256,
    )
    return NoticeEnvelope(
        notice_id=notice_id,
        version=1,
        msg_type=MsgType.ALERT,
        notice_type=NoticeType.FREEZE_ORDER,
        originator=ctx.originator,
        issued_at=issued,
        classification=classification,
        source=source,
        body=body,
    )


class _Classified(Protocol):
    @property
    def classification(self) -> Classification: ...


class SnapshotEntries(Generic[M]):
    """What the notices of all entries of one snapshot share: the payload's context, the
    adapter, its tables, and when the list was generated, which dates undated listings."""

    notice_prefix: ClassVar[str]
    root: ClassVar[str]
    """The document element's local name."""
    generated_attribute: ClassVar[str]
    """The document element's attribute that says when the list was generated."""

    def __init__(self, ctx: TranslationContext, adapter: Adapter, mapping: M) -> None:
        self.ctx = ctx
        self.adapter = adapter
        self.mapping = mapping
        self._generated: dt.datetime | None = None
        self._generated_read = False

    def generated(self, record: XmlRecord) -> dt.datetime | None:
        """When the list was generated, read once, from the first entry's document."""
        if not self._generated_read:
            self._generated = generated_at(self.ctx, record, self.root, self.generated_attribute)
            self._generated_read = True
        return self._generated

    def freeze_notice(
        self,
        record: XmlRecord,
        *,
        key: str,
        original_id: str,
        listed_on: dt.date | None,
        body: FreezeOrder,
    ) -> NoticeEnvelope:
        """The entry's notice. Its id is the list's permanent key for the listing, lowercased
        behind the prefix, so that it stays the same across snapshots."""
        return freeze_notice(
            self.ctx,
            self.adapter,
            notice_id=f"{self.notice_prefix}-{key.lower()}",
            original_id=original_id,
            issued=issued_at(listed_on, self.ctx.received_at, self.generated(record)),
            classification=self.mapping.classification,
            body=body,
            sha256=record.sha256(),
        )


def stream_entries(
    ctx: TranslationContext,
    *,
    root: str,
    entries: tuple[str, ...],
    build: Callable[[XmlRecord], NoticeEnvelope | None],
) -> Iterator[NoticeEnvelope]:
    """One notice per entry of the snapshot, in document order, in bounded memory.

    ``build`` may return None for an entry that is not a listing in force. Faults in values
    that pydantic or a parser reject surface as ValueError; they are placed at their entry.
    An entry listed twice comes out twice: the snapshot stage keeps the first and counts the
    second, rather than this stage refusing the whole list for one repeat.
    """
    found = 0
    for record in iter_records(ctx, entries):
        found += 1
        if not record.path.startswith(f"/{root}/"):
            raise record.error(f"an entry outside a {root} document")
        try:
            notice = build(record)
        except ValueError as err:
            raise TranslationError(
                format=ctx.format, where=record.where, reason=_describe(err)
            ) from err
        if notice is not None:
            yield notice
    if not found:
        raise TranslationError(
            format=ctx.format,
            where=f"/{root}",
            reason=f"no {' or '.join(entries)} entry: an empty snapshot would read as every "
            "listing withdrawn",
        )


def _describe(err: ValueError) -> str:
    if isinstance(err, ValidationError):
        first = err.errors()[0]
        where = ".".join(str(step) for step in first["loc"])
        return f"not a valid canonical notice: {where}: {first['msg']}"
    return str(err)
