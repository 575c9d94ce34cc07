"""INTERPOL's public notices JSON (ws-public.interpol.int/notices/v1) as canonical notices.

A payload is a list page (``_embedded.notices[]`` of summaries) or one notice's detail. Both
carry the same fields, the detail only more of them, so one translation serves both. Objects
are read by popping (``adapters.json_fields``), so fields nobody maps are counted.

The public API has no lifecycle and no issue date: every notice is version 1, an ALERT, issued
when received. A withdrawal is a notice's absence from a later snapshot, which one payload
cannot show.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from adapters.base import Adapter, TranslationContext
from adapters.json_fields import JsonFields, json_type, parse_json
from broker.errors import TranslationError
from broker.models import (
    Alias,
    Charge,
    Classification,
    CountryCode,
    DateSpan,
    LastSeen,
    Level,
    MsgType,
    Name,
    NoticeEnvelope,
    NoticeType,
    PartialDate,
    PersonSubject,
    PhotoRef,
    RelatedEntity,
    Relative,
    RequestedAction,
    Sex,
    Tlp,
    WantedPersonNotice,
    Warrant,
)

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
    withdrawn_countries: frozenset[CountryCode]
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
    notices = _notice_objects(parse_json(ctx), ctx, mapping.blank_values)
    return [_envelope(notice, ctx, adapter, mapping) for notice in notices]


def _notice_objects(doc: Any, ctx: TranslationContext, blanks: frozenset[str]) -> list[JsonFields]:
    if isinstance(doc, dict):
        embedded = doc.get("_embedded")
        if isinstance(embedded, dict) and "notices" in embedded:
            return _list_page(JsonFields(doc, "$", ctx, blanks))
        if _DETAIL_KEYS & doc.keys():
            return [JsonFields(doc, "$", ctx, blanks)]
    raise TranslationError(
        format=ctx.format,
        where="$",
        reason="neither a notice list page (_embedded.notices) nor a notice detail "
        f"(entity_id, name, forename): found {_describe(doc)}",
    )


def _list_page(page: JsonFields) -> list[JsonFields]:
    """The page's notices; its paging fields (total, query, _links) say nothing about them."""
    embedded = page.child("_embedded")
    notices = embedded.children("notices")
    embedded.audit()
    page.ignore("total", "query", "_links")
    page.audit()
    return notices


def _envelope(
    notice: JsonFields, ctx: TranslationContext, adapter: Adapter, mapping: InterpolMapping
) -> NoticeEnvelope:
    entity_id = _entity_id(notice)
    self_href, thumbnail = _links(notice)
    colour = _colour(notice, self_href, entity_id, mapping)
    charges, warrant = _arrest_warrants(notice, mapping)
    body = WantedPersonNotice(
        subject=_subject(notice, mapping, thumbnail),
        charges=charges,
        warrant=warrant,
        requesting_country=_requesting_country(notice, charges, mapping),
        last_seen=_last_seen(notice, mapping),
        likely_destinations=_countries(notice, "countries_likely_to_be_visited", mapping),
        relatives=_relatives(notice),
        related=_related(notice),
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


def _entity_id(notice: JsonFields) -> str:
    entity_id = notice.required_text("entity_id")
    if not _ENTITY_ID.fullmatch(entity_id):
        raise notice.error(
            notice.at("entity_id"), f"{entity_id!r} is not an INTERPOL notice id (YYYY/NNNNN)"
        )
    return entity_id


def _links(notice: JsonFields) -> tuple[str | None, str | None]:
    """The notice's own link (the only place that names its colour) and its thumbnail.

    The images link lists the photos behind the thumbnail: a page to browse, not a photo.
    """
    links = notice.child("_links")
    hrefs = _href(links, "self"), _href(links, "thumbnail")
    links.ignore("images")
    links.audit()
    return hrefs


def _href(links: JsonFields, key: str) -> str | None:
    link = links.child(key)
    href = link.text("href")
    link.audit()
    return href


def _colour(notice: JsonFields, href: str | None, entity_id: str, mapping: InterpolMapping) -> str:
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
    notice: JsonFields, mapping: InterpolMapping
) -> tuple[list[Charge], Warrant | None]:
    """One charge per warrant, and the warrant from the first one.

    The public extract names no court, date or reference: the first warrant's issuer is all
    that can be said of the warrant itself.
    """
    issued = [_warrant(warrant, mapping) for warrant in notice.children("arrest_warrants")]
    charges = [charge for charge, _ in issued]
    return charges, Warrant(authority=issued[0][1]) if issued else None


def _warrant(warrant: JsonFields, mapping: InterpolMapping) -> tuple[Charge, str | None]:
    jurisdiction, authority = _issuer(warrant, mapping)
    charge = Charge(
        offence=warrant.required_text("charge"),
        offence_translation=warrant.text("charge_translation"),
        jurisdiction=jurisdiction,
    )
    warrant.audit()
    return charge, authority


def _issuer(warrant: JsonFields, mapping: InterpolMapping) -> tuple[str | None, str | None]:
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


def _subject(notice: JsonFields, mapping: InterpolMapping, thumbnail: str | None) -> PersonSubject:
    name = _name(notice)
    return PersonSubject(
        names=[name] if name else [],
        aliases=_aliases(notice, name),
        sex=_sex(notice, mapping),
        dates_of_birth=_dates_of_birth(notice),
        place_of_birth=notice.text("place_of_birth"),
        country_of_birth=_country_of_birth(notice, mapping),
        nationalities=_countries(notice, "nationalities", mapping),
        height_m=_measure(notice, "height"),
        weight_kg=_measure(notice, "weight"),
        languages=_languages(notice, mapping),
        description=_description(notice, mapping),
        photos=[PhotoRef(uri=thumbnail)] if thumbnail else [],
    )


def _name(notice: JsonFields) -> Name | None:
    """The name as INTERPOL writes it, or None for a notice published without one.

    A parenthesised part such as 'ANGELOV (STOYANOV)' stays: the extract does not say whether
    it is an alias, a former name or part of the name, so no alias is made of it. INTERPOL does
    publish notices whose name and forename are both empty or '-': the photo, date of birth and
    charges still identify the person, so the notice goes out with no name rather than not at
    all.
    """
    forename, family = _name_part(notice, "forename"), _name_part(notice, "name")
    if forename is None and family is None:
        return None
    full_name = " ".join(part for part in (forename, family) if part)
    return Name(full_name=full_name, given_names=forename, family_name=family, script="Latn")


def _name_part(fields: JsonFields, key: str) -> str | None:
    """A name as written, runs of spaces collapsed ('GONZALEZ  MORALES' is one name)."""
    text = fields.text(key)
    return " ".join(text.split()) if text else None


def _aliases(notice: JsonFields, name: Name | None) -> list[Alias]:
    """A yellow notice's name at birth: another name the missing person may be found under."""
    birth_name = _name_part(notice, "birth_name")
    if birth_name is None or (name and birth_name in (name.family_name, name.full_name)):
        return []
    return [Alias(name=Name(full_name=birth_name, script="Latn"))]


def _sex(notice: JsonFields, mapping: InterpolMapping) -> Sex:
    code = notice.text("sex_id")
    sex = None if code is None else notice.lookup(notice.at("sex_id"), code, mapping.sex)
    return sex or Sex.UNKNOWN


def _dates_of_birth(notice: JsonFields) -> list[DateSpan]:
    raw = notice.text("date_of_birth")
    return [] if raw is None else [DateSpan(earliest=_partial_date(notice, "date_of_birth", raw))]


def _partial_date(notice: JsonFields, key: str, raw: str) -> PartialDate:
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


def _country_of_birth(notice: JsonFields, mapping: InterpolMapping) -> str | None:
    code = notice.text("country_of_birth_id")
    return (
        None if code is None else _country(notice, notice.at("country_of_birth_id"), code, mapping)
    )


def _countries(notice: JsonFields, key: str, mapping: InterpolMapping) -> list[str]:
    codes = (_country(notice, where, code, mapping) for where, code in notice.texts(key))
    return list(dict.fromkeys(codes))


def _country(notice: JsonFields, where: str, code: str, mapping: InterpolMapping) -> str:
    country = mapping.countries.get(code, code)
    if country in mapping.withdrawn_countries:
        notice.report_unknown(where, code)
    if not _ISO_COUNTRY.fullmatch(country):
        raise notice.error(
            where,
            f"{code!r} is not an ISO 3166-1 alpha-2 country code, "
            "nor an INTERPOL code that mapping.yml knows",
        )
    return country


def _requesting_country(
    notice: JsonFields, charges: list[Charge], mapping: InterpolMapping
) -> str | None:
    """Yellow notices name it (issuing_country); for red ones it is the warrants' country."""
    code = notice.text("issuing_country")
    if code is not None:
        return _country(notice, notice.at("issuing_country"), code, mapping)
    return next((charge.jurisdiction for charge in charges if charge.jurisdiction), None)


def _last_seen(notice: JsonFields, mapping: InterpolMapping) -> LastSeen | None:
    """A missing person's disappearance: date_of_event, place and country of yellow notices."""
    raw_date, place, code = (notice.text(key) for key in ("date_of_event", "place", "country"))
    if raw_date is None and place is None and code is None:
        return None
    return LastSeen(
        date=None if raw_date is None else _partial_date(notice, "date_of_event", raw_date),
        place=place,
        country=None if code is None else _country(notice, notice.at("country"), code, mapping),
    )


def _relatives(notice: JsonFields) -> list[Relative]:
    """Parents named on yellow notices: a missing child is often found through them."""
    relatives = []
    for relation in ("father", "mother"):
        forename, family = (
            _name_part(notice, f"{relation}_{part}") for part in ("forename", "name")
        )
        if forename or family:
            full_name = " ".join(part for part in (forename, family) if part)
            name = Name(
                full_name=full_name, given_names=forename, family_name=family, script="Latn"
            )
            relatives.append(Relative(relation=relation, name=name))
    return relatives


def _related(notice: JsonFields) -> list[RelatedEntity]:
    """Notices INTERPOL links to this one (co-accused persons), by their hub notice ids."""
    embedded = notice.child("_embedded")
    related = [_linked_notice(link) for link in embedded.children("links")]
    embedded.audit()
    return related


def _linked_notice(link: JsonFields) -> RelatedEntity:
    entity_id = _entity_id(link)
    colour = link.required_text("color").lower()
    forename, family = _name_part(link, "forename"), _name_part(link, "name")
    link.ignore("_links")  # the linked notice's own links: its id above already names it
    link.audit()
    return RelatedEntity(
        kind="person",
        name=" ".join(part for part in (forename, family) if part) or entity_id,
        ref=f"interpol-{colour}-{entity_id}",
    )


def _measure(notice: JsonFields, key: str) -> float | None:
    """INTERPOL writes 0 for an unknown height or weight."""
    return notice.number(key) or None


def _languages(notice: JsonFields, mapping: InterpolMapping) -> list[str]:
    """BCP 47 subtags; a code the table lacks stays as INTERPOL wrote it, and is counted."""
    tags = (
        notice.lookup(where, code, mapping.languages) or code
        for where, code in notice.texts("languages_spoken_ids")
    )
    return list(dict.fromkeys(tags))


def _description(notice: JsonFields, mapping: InterpolMapping) -> str | None:
    """Eye and hair colours in words, then the marks: what an officer compares on sight."""
    lines = (
        _colours("Eyes", notice, "eyes_colors_id", mapping.eye_colours),
        _colours("Hair", notice, "hairs_id", mapping.hair_colours),
        _labelled("Distinguishing marks", notice.text("distinguishing_marks")),
    )
    return "\n".join(line for line in lines if line) or None


def _colours(label: str, notice: JsonFields, key: str, table: Mapping[str, str]) -> str | None:
    words = (notice.lookup(where, code, table) or code for where, code in notice.texts(key))
    return _labelled(label, ", ".join(words))


def _labelled(label: str, text: str | None) -> str | None:
    return f"{label}: {text}" if text else None


def _describe(doc: Any) -> str:
    if isinstance(doc, dict):
        return f"an object with keys {', '.join(sorted(doc)) or '(none)'}"
    return json_type(doc)
