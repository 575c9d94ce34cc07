"""Benchmark inputs: real-format payloads synthesized from the fixtures' shapes, fresh ids each.

- INTERPOL: the items of a real red-notice list page, each made into one notice's *detail*
  payload (the fields the detail endpoint adds, per ../shared/fixtures/INDEX.md: arrest
  warrants, sex, height, weight, place of birth, languages, eye and hair colours), with a new
  entity_id (and links that agree with it).
- UN: the INDIVIDUAL records of the real consolidated-list excerpt, each alone in a small
  CONSOLIDATED_LIST document, with a new REFERENCE_NUMBER and DATAID; and whole lists of a
  given size, the excerpt's records repeated with new reference numbers.
- Canonical notices: those payloads translated by the real adapters and encoded by the real
  serde, done before any clock starts (what R1 and R2 send, what P2 reads).
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import os
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from adapters.base import TranslationContext
from adapters.registry import AdapterRegistry
from broker.errors import NoticeBrokerError
from broker.models import NoticeEnvelope, Originator
from broker.publisher import routing_headers
from broker.raw import FORMAT_HEADER
from broker.serde import NoticeSerde
from broker.translation import DeadLetter, translate_record

INTERPOL_FORMAT = "interpol-notice-json"
UN_FORMAT = "un-sc-consolidated-xml"
INTERPOL_AGENCY = "interpol"
UN_AGENCY = "un"
AGENCIES: dict[str, str | None] = {INTERPOL_AGENCY: None, UN_AGENCY: None}

INTERPOL_PAGE = Path("wanted") / "interpol_red_notices_list_page1_2021-12-11.json"
UN_LIST = Path("sanctions") / "un_sc_consolidated_2020-03-20_excerpt.xml"

_INDIVIDUAL = re.compile(rb"<INDIVIDUAL>.*?</INDIVIDUAL>", re.DOTALL)
_ENTITY = re.compile(rb"<ENTITY>.*?</ENTITY>", re.DOTALL)
_REFERENCE = re.compile(rb"<REFERENCE_NUMBER>\s*(.*?)\s*</REFERENCE_NUMBER>")
_DATAID = re.compile(rb"<DATAID>\s*(.*?)\s*</DATAID>")
_UN_HEAD = re.compile(rb"^.*?<CONSOLIDATED_LIST[^>]*>", re.DOTALL)

# What the INTERPOL detail endpoint adds to a list item; values the adapter's tables know.
_CHARGES = (
    ("Homicidio agravado", "Aggravated homicide"),
    ("Tráfico ilícito de drogas", "Illicit drug trafficking"),
    ("Lavado de activos", None),
    ("Robo con violencia", "Robbery with violence"),
)
_LANGUAGES = (["SPA"], ["SPA", "ENG"], ["FRE"], ["ARA", "FRE"], ["RUS"])
_EYES = ("BRO", "BLA", "BROD", "GRE", "BLU")
_HAIR = ("BLA", "BRO", "GRYG", "HAIB")


def default_fixtures() -> Path:
    """``NOTICES_FIXTURES``, else ../shared/fixtures beside the repository."""
    env = os.environ.get("NOTICES_FIXTURES")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "shared" / "fixtures"


class FixturesMissing(NoticeBrokerError):
    def __init__(self, path: Path) -> None:
        super().__init__(
            f"benchmark fixtures not found: {path} (set NOTICES_FIXTURES or --fixtures to the "
            "folder holding wanted/ and sanctions/)"
        )


@dataclass(frozen=True)
class RawPayload:
    """One payload as a liaison system publishes it, and the notice id it must become."""

    agency: str
    fmt: str
    value: bytes
    notice_id: str

    @property
    def headers(self) -> list[tuple[str, bytes]]:
        return [(FORMAT_HEADER, self.fmt.encode())]


@dataclass(frozen=True)
class EncodedNotice:
    """A canonical notice as the hub writes it to notices.<type>: key, Avro bytes, headers."""

    notice: NoticeEnvelope
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


class Synthesizer:
    """Fresh payloads on every call: ids come from one counter, never repeated in a run."""

    def __init__(self, fixtures: Path, *, seed: int = 7) -> None:
        page_path, list_path = fixtures / INTERPOL_PAGE, fixtures / UN_LIST
        for path in (page_path, list_path):
            if not path.is_file():
                raise FixturesMissing(path)
        page = orjson.loads(page_path.read_bytes())
        self._interpol_items: list[dict[str, Any]] = page["_embedded"]["notices"]
        un = list_path.read_bytes()
        head = _UN_HEAD.match(un)
        if head is None:
            raise FixturesMissing(list_path)
        self._un_head = head[0]
        self._individuals = _INDIVIDUAL.findall(un)
        self._entities = _ENTITY.findall(un)
        self._random = random.Random(seed)
        # Entity ids look like INTERPOL's (YYYY/NNNNN) but cannot clash with real ones.
        self._serial = itertools.count(self._random.randrange(10_000_000, 90_000_000))

    # INTERPOL

    def interpol_detail(self) -> RawPayload:
        serial = next(self._serial)
        item = copy.deepcopy(self._interpol_items[serial % len(self._interpol_items)])
        old = str(item["entity_id"]).replace("/", "-")
        entity_id = f"2099/{serial}"
        item["entity_id"] = entity_id
        links = orjson.dumps(item.get("_links", {})).replace(
            old.encode(), entity_id.replace("/", "-").encode()
        )
        item["_links"] = orjson.loads(links)
        pick = self._random.choice
        charge, translation = pick(_CHARGES)
        nationality = (item.get("nationalities") or ["FR"])[0]
        item.update(
            arrest_warrants=[
                {
                    "issuing_country_id": nationality,
                    "charge": charge,
                    "charge_translation": translation,
                }
            ],
            sex_id=pick("MF"),
            height=round(self._random.uniform(1.55, 1.95), 2),
            weight=self._random.randrange(55, 110),
            place_of_birth=pick(("MONTEVIDEO", "LIMA", "ALGER", "KYIV", "")),
            country_of_birth_id=nationality,
            languages_spoken_ids=pick(_LANGUAGES),
            eyes_colors_id=[pick(_EYES)],
            hairs_id=[pick(_HAIR)],
            distinguishing_marks=pick((None, "Scar on the left forearm", "Tattoo on the neck")),
            _embedded={"links": []},
        )
        colour = "yellow" if "/yellow/" in links.decode() else "red"
        return RawPayload(
            INTERPOL_AGENCY,
            INTERPOL_FORMAT,
            orjson.dumps(item),
            f"interpol-{colour}-{entity_id}",
        )

    # UN

    def _un_record(self, template: bytes) -> tuple[bytes, str]:
        serial = next(self._serial)
        found = _REFERENCE.search(template)
        original = found[1].decode() if found else "XXi.000"
        reference = f"{original}.{serial}"
        record = _REFERENCE.sub(
            f"<REFERENCE_NUMBER>{reference}</REFERENCE_NUMBER>".encode(), template, count=1
        )
        record = _DATAID.sub(f"<DATAID>{serial}</DATAID>".encode(), record, count=1)
        return record, reference

    def un_individual(self) -> RawPayload:
        """One listed individual, alone in a consolidated-list document."""
        template = self._individuals[next(self._serial) % len(self._individuals)]
        record, reference = self._un_record(template)
        document = b"".join(
            (
                self._un_head,
                b"\n    <INDIVIDUALS>\n        ",
                record,
                b"\n    </INDIVIDUALS>\n    <ENTITIES/>\n</CONSOLIDATED_LIST>\n",
            )
        )
        return RawPayload(UN_AGENCY, UN_FORMAT, document, f"un-sc-{reference.lower()}")

    def write_un_list(self, path: Path, size: int) -> int:
        """A consolidated list of about ``size`` bytes; returns its number of entries."""
        entries = 0
        with path.open("wb") as out:
            out.write(self._un_head + b"\n    <INDIVIDUALS>\n")
            written = len(self._un_head)
            budget = size * len(self._individuals) // (len(self._individuals) + len(self._entities))
            for template in itertools.cycle(self._individuals):
                if written >= budget:
                    break
                record, _ = self._un_record(template)
                written += out.write(b"        " + record + b"\n")
                entries += 1
            out.write(b"    </INDIVIDUALS>\n    <ENTITIES>\n")
            for template in itertools.cycle(self._entities):
                if written >= size:
                    break
                record = template
                found = _REFERENCE.search(template)
                original = found[1].decode() if found else "XXe.000"
                serial = next(self._serial)
                record = _REFERENCE.sub(
                    f"<REFERENCE_NUMBER>{original}.{serial}</REFERENCE_NUMBER>".encode(),
                    record,
                    count=1,
                )
                written += out.write(b"        " + record + b"\n")
                entries += 1
            out.write(b"    </ENTITIES>\n</CONSOLIDATED_LIST>\n")
        return entries

    # Mixed streams

    def raw_payloads(self, count: int) -> list[RawPayload]:
        """``count`` payloads, INTERPOL details and UN documents alternating."""
        return [
            self.interpol_detail() if i % 2 == 0 else self.un_individual() for i in range(count)
        ]

    def notices(
        self, count: int, registry: AdapterRegistry, serde: NoticeSerde
    ) -> list[EncodedNotice]:
        """``count`` canonical notices, translated and encoded by the hub's own code."""
        return [encode(n, serde) for n in translate_all(self.raw_payloads(count), registry)]


def translate_all(
    payloads: list[RawPayload], registry: AdapterRegistry
) -> Iterator[NoticeEnvelope]:
    """The notices of ``payloads``; a payload that does not translate is a bug of this module."""
    received = dt.datetime.now(dt.UTC)
    for payload in payloads:
        ctx = TranslationContext(
            format=payload.fmt,
            originator=Originator(agency_id=payload.agency, country=None),
            received_at=received,
            raw=payload.value,
        )
        outcome = translate_record(registry, ctx)
        if isinstance(outcome, DeadLetter):
            raise RuntimeError(f"synthesized {payload.fmt} payload does not translate: {outcome}")
        yield from outcome


def encode(notice: NoticeEnvelope, serde: NoticeSerde) -> EncodedNotice:
    return EncodedNotice(
        notice, notice.notice_id.encode(), serde.encode(notice), routing_headers(notice)
    )
