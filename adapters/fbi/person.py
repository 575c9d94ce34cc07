"""The person on an FBI poster: names, aliases, dates of birth, origin, measures, photographs.

The API gives one free-text title instead of name parts, dates of birth as English prose,
nationality as a demonym ("New Zealander"), height in inches, weight as prose ("160 to 180
pounds"). Each is read into the canonical field without inventing precision: no given/family
split the source does not make, a range's midpoint only where the canonical field holds one
number (the range itself stays in the description).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import pycountry

from adapters.countries import country_code
from adapters.fbi.tables import FbiMapping, lookup
from adapters.json_fields import JsonFields
from adapters.markings import fold
from adapters.partial_dates import parse_date_span
from broker.models import (
    Alias,
    AliasQuality,
    DateSpan,
    IdentityDocument,
    Name,
    PersonSubject,
    PhotoRef,
    Sex,
)

_QUOTED = re.compile(r"[\"“”„]([^\"“”„]*)[\"“”„]")
_QUOTES = ' ,;"“”„'
# Every pattern that can meet a run of spaces or digits starts only at the run's first character
# (the look-behinds), so that no input makes a search quadratic.
_TITLE_TAIL = re.compile(r"(?<!\s)\s+-{1,2}\s+")
_DOB_SEPARATORS = re.compile(r";|(?<!\s)\s+or\s+|(?<=\d{4}),(?=\s*\S)", re.IGNORECASE)
_LIST = re.compile(r"[,/;&]|\band\b", re.IGNORECASE)
_WEIGHT = re.compile(
    r"(?<![\d.])(?P<low>\d+(?:\.\d+)?)(?:\s*(?:to|-|\u2013)\s*(?P<high>\d+(?:\.\d+)?))?\s*"
    r"(?P<unit>pounds|pound|lbs?|kilograms|kilos|kgs?)\b",
    re.IGNORECASE,
)
_POUND_KG = 0.45359237
_INCH_M = 0.0254
_NCIC_NOTE = "FBI National Crime Information Center (NCIC) record number"


@dataclass(frozen=True)
class Title:
    """A poster title split into the person's name and what the FBI appended to it."""

    names: list[Name]
    nicknames: list[str]
    tail: str | None
    """Text after ' - ', such as the place of a missing person's disappearance."""


def read_title(title: str, mapping: FbiMapping) -> Title:
    """'RANDY STEWART DORAN - NEW ORLEANS, LOUISIANA', 'JOHN "LITTLE ZION" DOE', 'JANE DOE'.

    A quoted nickname becomes a weak alias and leaves the name; a placeholder such as JOHN DOE
    or UNKNOWN SUSPECT is not a name, so the person goes out unnamed, as the canonical model
    allows for people identified only by photographs and description.
    """
    head, *tail = _TITLE_TAIL.split(title, maxsplit=1)
    nicknames, bare = _split_quoted(head)
    named = bare and not mapping.unnamed.match(bare)
    return Title(
        names=[_name(bare, mapping)] if named else [],
        nicknames=nicknames,
        tail=(tail[0].strip() or None) if tail else None,
    )


def aliases(item: JsonFields, title: Title, mapping: FbiMapping) -> list[Alias]:
    """Names the FBI says the person used; quoted nicknames and single words are weak.

    The FBI grades no alias. A nickname ('"Big Kountry"') or a lone word ('Mark') should not be
    matched on by itself, which is what WEAK tells recipients; a full name stays UNKNOWN. One
    entry may hold both ('"D-Street," Deschene D. Darrell').
    """
    found = [(nickname, AliasQuality.WEAK) for nickname in title.nicknames]
    for _, text in item.texts("aliases"):
        nicknames, rest = _split_quoted(text)
        found += [(nickname, AliasQuality.WEAK) for nickname in nicknames]
        if rest:
            found.append((rest, AliasQuality.UNKNOWN if " " in rest else AliasQuality.WEAK))
    seen = {name.full_name.casefold() for name in title.names}
    unique = []
    for text, quality in found:
        if text.casefold() not in seen:
            seen.add(text.casefold())
            unique.append(Alias(name=_name(text, mapping), quality=quality))
    return unique


def _split_quoted(text: str) -> tuple[list[str], str]:
    """(the quoted nicknames, the rest) of a name, quotes and stray commas removed."""
    nicknames = [" ".join(q.split()).strip(_QUOTES) for q in _QUOTED.findall(text)]
    rest = " ".join(_QUOTED.sub(" ", text).split()).strip(_QUOTES)
    return [nickname for nickname in nicknames if nickname], rest


def _name(text: str, mapping: FbiMapping) -> Name:
    return Name(full_name=text, script=script(text, mapping))


def script(text: str, mapping: FbiMapping) -> str | None:
    """The ISO 15924 script all the letters share; None for mixed or unknown scripts."""
    scripts = {
        mapping.scripts.get(unicodedata.name(char, "").split(" ", 1)[0])
        for char in text
        if char.isalpha()
    }
    return scripts.pop() if len(scripts) == 1 else None


def sex(item: JsonFields, mapping: FbiMapping) -> Sex:
    return lookup(item, "sex", mapping.sex)[1] or Sex.UNKNOWN


def dates_of_birth(item: JsonFields) -> list[DateSpan]:
    """Each date as precise as written; one entry may list several ('June 1, 1966; 1967')."""
    spans: list[DateSpan] = []
    for where, text in item.texts("dates_of_birth_used"):
        for part in _DOB_SEPARATORS.split(text):
            if part := part.strip(" ,"):
                try:
                    spans.append(parse_date_span(part))
                except ValueError as err:
                    raise item.error(where, str(err)) from err
    return list(dict.fromkeys(spans))


def place_country(place: str, mapping: FbiMapping) -> tuple[str | None, bool]:
    """(country, known) of 'City, State' or 'City, Country' as the FBI writes places.

    US states name no country by themselves ('Lander, Wyoming'), so mapping.yml lists them;
    a name that is both a state and a country (Georgia) gives no country, on purpose.
    """
    last = place.rsplit(",", 1)[-1].strip()
    if (key := fold(last)) in mapping.folded_places:
        return mapping.folded_places[key], True
    code = country_code(last) or country_code(place)
    return code, code is not None


def country_of_birth(item: JsonFields, place: str | None, mapping: FbiMapping) -> str | None:
    if place is None:
        return None
    code, known = place_country(place, mapping)
    if not known:
        item.report_unknown(item.at("place_of_birth"), place)
    return code


def nationalities(item: JsonFields, mapping: FbiMapping) -> list[str]:
    """'American', 'New Zealander', 'Mexican/American': demonyms first, then country names."""
    text = item.text("nationality")
    codes = []
    for part in (part.strip() for part in _LIST.split(text or "")):
        if not part:
            continue
        code = mapping.folded_nationalities.get(fold(part)) or country_code(part)
        if code is None:
            item.report_unknown(item.at("nationality"), part)
        else:
            codes.append(code)
    return list(dict.fromkeys(codes))


def height(item: JsonFields) -> tuple[float | None, str | None]:
    """Metres (a range's midpoint), and the height in inches as the FBI gives it."""
    low, high = item.number("height_min") or None, item.number("height_max") or None
    low, high = low or high, high or low
    if low is None or high is None:
        return None, None
    low, high = min(low, high), max(low, high)
    inches = f"{low:g}" if low == high else f"{low:g} to {high:g}"
    return round((low + high) / 2 * _INCH_M, 2) or None, f"Height: {inches} inches"


def weight(item: JsonFields) -> tuple[float | None, str | None]:
    """Kilograms from the prose ('209 pounds (95 kilograms)'), else from the numbers.

    The prose is what the poster shows; weight_min/max (pounds) are derived from it and are
    sometimes wrong (209 and 95 for the example above), so they serve only when the prose is
    missing or holds no weight (which is counted).
    """
    text = item.text("weight")
    low, high = item.number("weight_min") or None, item.number("weight_max") or None
    match = None if text is None else _WEIGHT.search(text)
    if match is not None:
        pounds = not match["unit"].lower().startswith("k")
        stated = float(match["low"]), float(match["high"] or match["low"])
        return _kilograms(*stated, pounds=pounds), f"Weight: {text}"
    if text is not None:
        item.report_unknown(item.at("weight"), text)
    low, high = low or high, high or low
    if low is None or high is None:
        return None, _weight_line(text)
    pounds_text = f"{low:g}" if low == high else f"{min(low, high):g} to {max(low, high):g}"
    return _kilograms(low, high, pounds=True), _weight_line(text or f"{pounds_text} pounds")


def _weight_line(text: str | None) -> str | None:
    return None if text is None else f"Weight: {text}"


def _kilograms(low: float, high: float, *, pounds: bool) -> float | None:
    value = (low + high) / 2 * (_POUND_KG if pounds else 1)
    return round(value, 1) or None


def languages(item: JsonFields, mapping: FbiMapping) -> list[str]:
    """ISO 639 codes of the language names the FBI writes; an unknown name stays, counted."""
    tags = []
    for where, name in item.texts("languages"):
        tag = mapping.folded_languages.get(fold(name))
        if tag is None:
            try:
                language = pycountry.languages.lookup(name)
            except LookupError:
                item.report_unknown(where, name)
                tag = name
            else:
                tag = getattr(language, "alpha_2", None) or language.alpha_3
        tags.append(tag)
    return list(dict.fromkeys(tags))


def identity_documents(item: JsonFields, mapping: FbiMapping) -> list[IdentityDocument]:
    """The NCIC number: the FBI's national record of the person, which other forces query."""
    ncic = item.text("ncic")
    if ncic is None:
        return []
    return [
        IdentityDocument(
            kind="OTHER", number=ncic, issuing_country=mapping.country, note=_NCIC_NOTE
        )
    ]


def photos(item: JsonFields) -> tuple[list[PhotoRef], list[str]]:
    """Each image at its full size, and its caption ('Photograph taken in 2016') as a line."""
    refs, captions = [], []
    for number, image in enumerate(item.children("images"), start=1):
        uri = image.text("original") or image.text("large") or image.text("thumb")
        image.ignore("large", "thumb")  # smaller renderings of the original
        caption = image.text("caption")
        image.audit()
        if uri is not None:
            refs.append(PhotoRef(uri=uri))
            if caption:
                captions.append(f"Photo {len(refs)}: {caption}")
        elif caption:
            captions.append(f"Photo {number} (no image): {caption}")
    return refs, captions


def person(
    item: JsonFields, title: Title, mapping: FbiMapping
) -> tuple[PersonSubject, list[str], list[str]]:
    """The subject without its description, with the height and weight as the FBI writes
    them and the photographs' captions, for the description.
    """
    place = item.text("place_of_birth")
    height_m, height_line = height(item)
    weight_kg, weight_line = weight(item)
    refs, captions = photos(item)
    subject = PersonSubject(
        names=title.names,
        aliases=aliases(item, title, mapping),
        sex=sex(item, mapping),
        dates_of_birth=dates_of_birth(item),
        place_of_birth=place,
        country_of_birth=country_of_birth(item, place, mapping),
        nationalities=nationalities(item, mapping),
        identity_documents=identity_documents(item, mapping),
        height_m=height_m,
        weight_kg=weight_kg,
        languages=languages(item, mapping),
        photos=refs,
    )
    return subject, [line for line in (height_line, weight_line) if line], captions
