"""INTERPOL's public notices JSON (ws-public.interpol.int/notices/v1) as canonical notices.

A payload is a list page (``_embedded.notices[]`` of summaries) or one notice's detail. Both
carry the same fields, the detail only more of them, so one translation serves both. Each JSON
object is read by popping the fields it maps, as zavod's crawlers do: what is left at the end
is what nothing mapped, and goes to the context's unmapped counter, so a change in INTERPOL's
format shows up as a counter instead of as silently missing data.

The public API has no lifecycle and no issue date: every notice is version 1, an ALERT, issued
when received. A withdrawal is a notice's absence from a later snapshot, which one payload
cannot show.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field

from adapters.base import Adapter, TranslationContext
from broker.errors import TranslationError
from broker.models import (
    Alias,
    Charge,
    Classification,
    CountryCode,
    DateSpan,
    Level,
    MsgType,
    Name,
    NoticeEnvelope,
    NoticeType,
    PartialDate,
    PersonSubject,
    PhotoRef,
    RequestedAction,
    Sex,
    Tlp,
    WantedPersonNotice,
    Warrant,
)

V = TypeVar("V")

LanguageTag = Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]


class InterpolMapping(BaseModel):
    """The tables of mapping.yml; the file says what each one means and where it comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    blank_values: frozenset[str]
    sex: dict[str, Sex]
    action_requested: dict[str, RequestedAction]
    eye_colours: dict[str, str]
    hair_colours: dict[str, str]
    countries: dict[str, CountryCode]
    issuing_bodies: dict[str, str]
    languages: dict[str, LanguageTag]


# Public extracts, published by INTERPOL for anyone to read.
_CLASSIFICATION = Classification(
    level=Level.UNCLASSIFIED, tlp=Tlp.CLEAR, national_marking="INTERPOL public notice"
)
_ENTITY_ID = re.compile(r"\d{4}/\d+")
_DATE = re.compile(r"(\d{4})(?:/(\d{2})(?:/(\d{2}))?)?")
_ISO_COUNTRY = re.compile(r"[A-Z]{2}")
_NOTICE_LINK = re.compile(r"/notices/v1/(?P<colour>[a-z/]+)/(?P<id>\d{4}-\d+)/?(?:[?#]|$)")
# A payload with any of these at the top is one notice's detail rather than a list page.
_DETAIL_KEYS = frozenset({"entity_id", "name", "forename"})


def translate(
    ctx: TranslationContext, adapter: Adapter, mapping: InterpolMapping
) -> list[NoticeEnvelope]:
    """Every notice of the payload, all built before any is handed out.

    A fault in the seventh notice of a page thus never leaves six of them published while the
    payload's bytes go to the dead-letter topic.
    """
    notices = _notice_objects(_parse(ctx), ctx, mapping.blank_values)
    return [_envelope(notice, ctx, adapter, mapping) for notice in notices]


class _Fields:
    """One JSON object of the payload, read by popping: what is left is what nothing mapped."""

    def __init__(
        self, data: dict[str, Any], path: str, ctx: TranslationContext, blanks: frozenset[str]
    ) -> None:
        self.path = path
        self._rest = dict(data)
        self._ctx = ctx
        self._blanks = blanks

    def at(self, key: str) -> str:
        return f"{self.path}.{key}"

    def error(self, where: str, reason: str) -> TranslationError:
        return TranslationError(format=self._ctx.format, where=where, reason=reason)

    def text(self, key: str) -> str | None:
        """The stripped string; null, '' and INTERPOL's placeholders all mean "no value"."""
        return self._text(self._rest.pop(key, None), self.at(key))

    def required_text(self, key: str) -> str:
        value = self.text(key)
        if value is None:
            raise self.error(self.at(key), "missing or empty")
        return value

    def texts(self, key: str) -> list[tuple[str, str]]:
        """The strings of a list field, each with its path; INTERPOL sends null for none."""
        values = self._list(key, "strings")
        items = ((f"{self.at(key)}[{i}]", value) for i, value in enumerate(values))
        return [(where, text) for where, value in items if (text := self._text(value, where))]

    def number(self, key: str) -> float | None:
        value = self._rest.pop(key, None)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(self.at(key), f"expected a number, found {_json_type(value)}")
        if value < 0:
            raise self.error(self.at(key), f"{value} is negative")
        return float(value)

    def child(self, key: str) -> _Fields:
        """The object at ``key``; an empty one when it is absent, which reads as all-null."""
        value = self._rest.pop(key, None)
        return self._object({} if value is None else value, self.at(key))

    def children(self, key: str) -> list[_Fields]:
        values = self._list(key, "objects")
        return [self._object(value, f"{self.at(key)}[{i}]") for i, value in enumerate(values)]

    def lookup(self, where: str, code: str, table: Mapping[str, V]) -> V | None:
        """The table's value for ``code``; a code the table lacks is counted, never guessed."""
        value = table.get(code)
        if value is None:
            self.report_unknown(where, code)
        return value

    def report_unknown(self, where: str, code: str) -> None:
        """Count a value (not a field) that nothing could map, so a new code gets noticed."""
        self._ctx.unmapped[f"{where}={code}"] += 1

    def audit(self) -> None:
        """Count the fields nothing popped; empty ones carry no data, so they are not counted."""
        self._ctx.report_unmapped(
            self.path, {key for key, value in self._rest.items() if not _is_empty(value)}
        )

    def _text(self, value: Any, where: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(where, f"expected a string, found {_json_type(value)}")
        value = value.strip()
        return value if value and value not in self._blanks else None

    def _list(self, key: str, of: str) -> list[Any]:
        value = self._rest.pop(key, None)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(self.at(key), f"expected an array of {of}, found {_json_type(value)}")
        return value

    def _object(self, value: Any, where: str) -> _Fields:
        if not isinstance(value, dict):
            raise self.error(where, f"expected an object, found {_json_type(value)}")
        return _Fields(value, where, self._ctx, self._blanks)


def _parse(ctx: TranslationContext) -> Any:
    """The JSON document; faults are placed by line and column, as an editor shows them."""
    try:
        text = ctx.raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise TranslationError(
            format=ctx.format,
            where=_line_column(ctx.raw[: err.start].decode("utf-8")),
            reason=f"not UTF-8 ({err.reason}), which JSON must be",
        ) from err
    try:
        return orjson.loads(text.removeprefix("\ufeff"))
    except orjson.JSONDecodeError as err:
        raise TranslationError(
            format=ctx.format,
            where=f"line {err.lineno} column {err.colno}",
            reason=f"invalid JSON: {err.msg}",
        ) from err


def _line_column(before: str) -> str:
    line = before.count("\n") + 1
    column = len(before) - before.rfind("\n")
    return f"line {line} column {column}"


def _notice_objects(doc: Any, ctx: TranslationContext, blanks: frozenset[str]) -> list[_Fields]:
    if isinstance(doc, dict):
        embedded = doc.get("_embedded")
        if isinstance(embedded, dict) and "notices" in embedded:
            return _list_page(_Fields(doc, "$", ctx, blanks))
        if _DETAIL_KEYS & doc.keys():
            return [_Fields(doc, "$", ctx, blanks)]
    raise TranslationError(
        format=ctx.format,
        where="$",
        reason="neither a notice list page (_embedded.notices) nor a notice detail "
        f"(entity_id, name, forename): found {_describe(doc)}",
    )


def _list_page(page: _Fields) -> list[_Fields]:
    """The page's notices; its paging fields (total, query, _links) are counted as unmapped."""
    embedded = page.child("_embedded")
    notices = embedded.children("notices")
    embedded.audit()
    page.audit()
    return notices


def _envelope(
    notice: _Fields, ctx: TranslationContext, adapter: Adapter, mapping: InterpolMapping
) -> NoticeEnvelope:
    entity_id = _entity_id(notice)
    self_href, thumbnail = _links(notice)
    colour = _colour(notice, self_href, entity_id, mapping)
    charges, warrant = _arrest_warrants(notice, mapping)
    body = WantedPersonNotice(
        subject=_subject(notice, mapping, thumbnail),
        charges=charges,
        warrant=warrant,
        action_requested=mapping.action_requested[colour],
    )
    notice.audit()
    return NoticeEnvelope(
        notice_id=f"interpol-{colour}-{entity_id}",
        version=1,
        msg_type=MsgType.ALERT,
        notice_type=NoticeType.WANTED_PERSON,
        originator=ctx.originator,
        issued_at=ctx.received_at,
        classification=_CLASSIFICATION,
        source=ctx.source(adapter, original_id=entity_id),
        body=body,
    )


def _entity_id(notice: _Fields) -> str:
    entity_id = notice.required_text("entity_id")
    if not _ENTITY_ID.fullmatch(entity_id):
        raise notice.error(
            notice.at("entity_id"), f"{entity_id!r} is not an INTERPOL notice id (YYYY/NNNNN)"
        )
    return entity_id


def _links(notice: _Fields) -> tuple[str | None, str | None]:
    """The notice's own link (the only place that names its colour) and its thumbnail."""
    links = notice.child("_links")
    hrefs = _href(links, "self"), _href(links, "thumbnail")
    links.audit()
    return hrefs


def _href(links: _Fields, key: str) -> str | None:
    link = links.child(key)
    href = link.text("href")
    link.audit()
    return href


def _colour(notice: _Fields, href: str | None, entity_id: str, mapping: InterpolMapping) -> str:
    """The notice colour, which decides the action requested and is part of the notice id."""
    where = notice.at("_links.self.href")
    if href is None:
        raise notice.error(where, "missing: the notice colour (red, yellow) is read from it")
    match = _NOTICE_LINK.search(href)
    if match is None:
        raise notice.error(where, f"{href!r} is not a notice link (/notices/v1/<colour>/YYYY-N)")
    if match["id"] != entity_id.replace("/", "-"):
        raise notice.error(where, f"links to notice {match['id']}, but entity_id is {entity_id}")
    colour = match["colour"]
    if colour not in mapping.action_requested:
        known = ", ".join(mapping.action_requested)
        raise notice.error(where, f"{colour!r} notices are not wanted-person notices ({known})")
    return colour


def _arrest_warrants(
    notice: _Fields, mapping: InterpolMapping
) -> tuple[list[Charge], Warrant | None]:
    """One charge per warrant, and the warrant from the first one.

    The public extract names no court, date or reference: the first warrant's issuer is all
    that can be said of the warrant itself.
    """
    issued = [_warrant(warrant, mapping) for warrant in notice.children("arrest_warrants")]
    charges = [charge for charge, _ in issued]
    return charges, Warrant(authority=issued[0][1]) if issued else None


def _warrant(warrant: _Fields, mapping: InterpolMapping) -> tuple[Charge, str | None]:
    jurisdiction, authority = _issuer(warrant, mapping)
    charge = Charge(
        offence=warrant.required_text("charge"),
        offence_translation=warrant.text("charge_translation"),
        jurisdiction=jurisdiction,
    )
    warrant.audit()
    return charge, authority


def _issuer(warrant: _Fields, mapping: InterpolMapping) -> tuple[str | None, str | None]:
    """(jurisdiction, authority) of issuing_country_id.

    A country is both; an international tribunal is an authority under no national law; an
    unknown code still names the authority, so it is kept verbatim there (and counted).
    """
    code = warrant.text("issuing_country_id")
    if code is None:
        return None, None
    if code in mapping.issuing_bodies:
        return None, mapping.issuing_bodies[code]
    country = mapping.countries.get(code, code)
    if _ISO_COUNTRY.fullmatch(country):
        return country, country
    warrant.report_unknown(warrant.at("issuing_country_id"), code)
    return None, code


def _subject(notice: _Fields, mapping: InterpolMapping, thumbnail: str | None) -> PersonSubject:
    name = _name(notice)
    return PersonSubject(
        names=[name] if name else [],
        aliases=_aliases(notice, name),
        sex=_sex(notice, mapping),
        dates_of_birth=_dates_of_birth(notice),
        place_of_birth=notice.text("place_of_birth"),
        country_of_birth=_country_of_birth(notice, mapping),
        nationalities=_nationalities(notice, mapping),
        height_m=_measure(notice, "height"),
        weight_kg=_measure(notice, "weight"),
        languages=_languages(notice, mapping),
        description=_description(notice, mapping),
        photos=[PhotoRef(uri=thumbnail)] if thumbnail else [],
    )


def _name(notice: _Fields) -> Name | None:
    """The name as INTERPOL writes it, or None for a notice published without one.

    A parenthesised part such as 'ANGELOV (STOYANOV)' stays: the extract does not say whether
    it is an alias, a former name or part of the name, so no alias is made of it. INTERPOL does
    publish notices whose name and forename are both empty or '-': the photo, date of birth and
    charges still identify the person, so the notice goes out with no name rather than not at
    all.
    """
    forename, family = notice.text("forename"), notice.text("name")
    if forename is None and family is None:
        return None
    full_name = " ".join(part for part in (forename, family) if part)
    return Name(full_name=full_name, given_names=forename, family_name=family, script="Latn")


def _aliases(notice: _Fields, name: Name | None) -> list[Alias]:
    """A yellow notice's name at birth: another name the missing person may be found under."""
    birth_name = notice.text("birth_name")
    if birth_name is None or (name and birth_name in (name.family_name, name.full_name)):
        return []
    return [Alias(name=Name(full_name=birth_name, script="Latn"))]


def _sex(notice: _Fields, mapping: InterpolMapping) -> Sex:
    code = notice.text("sex_id")
    sex = None if code is None else notice.lookup(notice.at("sex_id"), code, mapping.sex)
    return sex or Sex.UNKNOWN


def _dates_of_birth(notice: _Fields) -> list[DateSpan]:
    raw = notice.text("date_of_birth")
    return [] if raw is None else [DateSpan(earliest=_partial_date(notice, "date_of_birth", raw))]


def _partial_date(notice: _Fields, key: str, raw: str) -> PartialDate:
    """INTERPOL writes YYYY/MM/DD, or YYYY/MM and YYYY when it knows no more: that stays so."""
    match = _DATE.fullmatch(raw)
    if match is None:
        raise notice.error(notice.at(key), f"{raw!r} is not a date (YYYY/MM/DD, YYYY/MM or YYYY)")
    year, month, day = int(match[1]), _optional_int(match[2]), _optional_int(match[3])
    try:
        dt.date(year, month or 1, day or 1)
    except ValueError as err:
        raise notice.error(notice.at(key), f"{raw!r} is not a calendar date: {err}") from err
    return PartialDate(year=year, month=month, day=day)


def _optional_int(text: str | None) -> int | None:
    return None if text is None else int(text)


def _country_of_birth(notice: _Fields, mapping: InterpolMapping) -> str | None:
    code = notice.text("country_of_birth_id")
    return (
        None if code is None else _country(notice, notice.at("country_of_birth_id"), code, mapping)
    )


def _nationalities(notice: _Fields, mapping: InterpolMapping) -> list[str]:
    codes = (
        _country(notice, where, code, mapping) for where, code in notice.texts("nationalities")
    )
    return list(dict.fromkeys(codes))


def _country(notice: _Fields, where: str, code: str, mapping: InterpolMapping) -> str:
    country = mapping.countries.get(code, code)
    if not _ISO_COUNTRY.fullmatch(country):
        raise notice.error(
            where,
            f"{code!r} is not an ISO 3166-1 alpha-2 country code, "
            "nor an INTERPOL code that mapping.yml knows",
        )
    return country


def _measure(notice: _Fields, key: str) -> float | None:
    """INTERPOL writes 0 for an unknown height or weight."""
    return notice.number(key) or None


def _languages(notice: _Fields, mapping: InterpolMapping) -> list[str]:
    """BCP 47 subtags; a code the table lacks stays as INTERPOL wrote it, and is counted."""
    tags = (
        notice.lookup(where, code, mapping.languages) or code
        for where, code in notice.texts("languages_spoken_ids")
    )
    return list(dict.fromkeys(tags))


def _description(notice: _Fields, mapping: InterpolMapping) -> str | None:
    """Eye and hair colours in words, then the marks: what an officer compares on sight."""
    lines = (
        _colours("Eyes", notice, "eyes_colors_id", mapping.eye_colours),
        _colours("Hair", notice, "hairs_id", mapping.hair_colours),
        _labelled("Distinguishing marks", notice.text("distinguishing_marks")),
    )
    return "\n".join(line for line in lines if line) or None


def _colours(label: str, notice: _Fields, key: str, table: Mapping[str, str]) -> str | None:
    words = (notice.lookup(where, code, table) or code for where, code in notice.texts(key))
    return _labelled(label, ", ".join(words))


def _labelled(label: str, text: str | None) -> str | None:
    return f"{label}: {text}" if text else None


def _is_empty(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_is_empty(item) for item in value.values())
    if isinstance(value, list):
        return all(_is_empty(item) for item in value)
    return value is None or value == ""


def _json_type(value: Any) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "a boolean"
        case int() | float():
            return "a number"
        case str():
            return "a string"
        case list():
            return "an array"
        case _:
            return "an object"


def _describe(doc: Any) -> str:
    if isinstance(doc, dict):
        return f"an object with keys {', '.join(sorted(doc)) or '(none)'}"
    return _json_type(doc)
