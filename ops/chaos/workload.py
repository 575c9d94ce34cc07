"""What a chaos run sends through the hub: agencies, their policy, notices and poison. Pure.

Every notice is new (one ALERT per notice id), none is embargoed and none expires, so the
outcome the oracle expects for each (notice, recipient) does not depend on when the
distributor decides it, however long a fault holds it up (``embargoed`` makes the variant for
the row about embargoes, where when is the point). The markings vary over everything the
decision reads: level, TLP, releasable and not-releasable lists naming countries, agencies and
groups, originator control, caveats and field markings, so that a leak of any rule would show
as delivered-but-not-entitled.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from broker import models as m
from broker.policy.profiles import GroupDefinition, Policy, RecipientProfile

ISSUED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

_EU = ("EU",)
_EU_NATO = ("EU", "SCHENGEN", "NATO")
_FIVE = ("FIVE_EYES", "NATO")
AGENCIES: tuple[RecipientProfile, ...] = tuple(
    RecipientProfile(
        agency_id=agency,
        country=country,
        clearance=m.Level(level),
        groups=groups,
        caveats=caveats,
        tlp_communities=communities,
    )
    for agency, country, level, groups, caveats, communities in [
        ("de-bka", "DE", "SECRET", _EU_NATO, ("CT", "SOC"), ("eu-le", "ncb")),
        ("fr-pj", "FR", "SECRET", _EU_NATO, ("SOC",), ("eu-le", "ncb")),
        ("nl-politie", "NL", "CONFIDENTIAL", _EU_NATO, ("SOC",), ("eu-le", "ncb")),
        ("europol", "NL", "CONFIDENTIAL", _EU, ("CT", "SOC"), ("eu-le",)),
        ("pl-policja", "PL", "RESTRICTED", _EU_NATO, (), ("eu-le",)),
        ("es-policia", "ES", "CONFIDENTIAL", _EU_NATO, ("CT",), ("eu-le", "ncb")),
        ("ch-fedpol", "CH", "CONFIDENTIAL", ("SCHENGEN",), ("SOC",), ("ncb",)),
        ("uk-nca", "GB", "SECRET", _FIVE, ("CT", "SOC"), ("five-eyes", "ncb")),
        ("us-fbi", "US", "TOP_SECRET", _FIVE, ("CT", "SOC"), ("five-eyes",)),
        ("ca-rcmp", "CA", "SECRET", _FIVE, ("SOC",), ("five-eyes", "ncb")),
        ("au-afp", "AU", "RESTRICTED", _FIVE, (), ("five-eyes",)),
        ("interpol", "FR", "RESTRICTED", (), (), ("ncb",)),
    ]
)
"""Twelve agencies, each both an originator and a recipient."""

POLICY = Policy(
    groups={
        name: GroupDefinition(description=f"{name} members")
        for name in ("EU", "SCHENGEN", "NATO", "FIVE_EYES")
    },
    recipients=AGENCIES,
)

_COUNTRIES = ("DE", "FR", "NL", "PL", "ES", "CH", "GB", "US", "CA", "AU", "RU", "IR")
_GROUPS = ("group:EU", "group:SCHENGEN", "group:NATO", "group:FIVE_EYES")
_AGENCY_IDS = tuple(agency.agency_id for agency in AGENCIES)
_TYPES = (m.NoticeType.WANTED_PERSON, m.NoticeType.INTEL_BULLETIN, m.NoticeType.FREEZE_ORDER)
_FIELD = {
    m.NoticeType.WANTED_PERSON: "subject.place_of_birth",
    m.NoticeType.INTEL_BULLETIN: "text",
    m.NoticeType.FREEZE_ORDER: "listing_reference",
}
"""One redactable field per body type, filled in every notice, so a field marking on it
redacts rather than withholds."""


@dataclass(frozen=True)
class Poison:
    """A record no service can read, and the topic it is put on."""

    topic_kind: str
    """``raw`` (ingest's input) or a notices topic kind (the distributor's)."""
    value: bytes


def notices(run: str, count: int, *, seed: int) -> Iterator[m.NoticeEnvelope]:
    """``count`` distinct notices of run ``run``, the same for the same seed."""
    rand = random.Random(seed)
    for index in range(count):
        originator = rand.choice(AGENCIES)
        notice_type = _TYPES[index % len(_TYPES)]
        notice_id = f"{run}-{originator.agency_id}-{index:06d}"
        yield m.NoticeEnvelope(
            notice_id=notice_id,
            version=1,
            msg_type=m.MsgType.ALERT,
            notice_type=notice_type,
            originator=m.Originator(agency_id=originator.agency_id, country=originator.country),
            issued_at=ISSUED + dt.timedelta(seconds=index),
            classification=_classification(rand, notice_type),
            source=m.Source(
                format="chaos-workload",
                original_id=notice_id,
                adapter="chaos",
                adapter_version="1",
                received_at=ISSUED,
                sha256=f"{index:064x}",
            ),
            body=_body(notice_type, notice_id),
        )


@dataclass(frozen=True)
class Embargo:
    """A share of a paced workload's notices embargoed until a while after each is produced:
    long enough that the distributor meets each one still embargoed, even behind a fault."""

    share: float
    delay: tuple[float, float]
    """Seconds from a notice's production to its not_before: the least and the most."""


def embargoed(
    notices: Iterable[m.NoticeEnvelope],
    embargo: Embargo,
    *,
    start: dt.datetime,
    pace: float,
    seed: int,
) -> Iterator[m.NoticeEnvelope]:
    """``notices`` as produced from ``start`` at ``pace`` per second, a share of them with a
    not_before ``embargo.delay`` after their production, in whole seconds. A random stream of
    its own leaves the notices themselves as ``notices`` makes them."""
    rand = random.Random(f"embargo-{seed}")
    for index, notice in enumerate(notices):
        if rand.random() >= embargo.share:
            yield notice
            continue
        produced = start + dt.timedelta(seconds=index / pace)
        release = produced + dt.timedelta(seconds=rand.uniform(*embargo.delay))
        yield notice.model_copy(update={"not_before": release.replace(microsecond=0)})


def _classification(rand: random.Random, notice_type: m.NoticeType) -> m.Classification:
    def some(pool: tuple[str, ...], most: int) -> list[str]:
        return rand.sample(pool, rand.randint(0, most))

    releasable = some(_COUNTRIES, 3) + some(_AGENCY_IDS, 2) + some(_GROUPS, 2)
    caveats = ["CT"] if rand.random() < 0.15 else (["SOC"] if rand.random() < 0.15 else [])
    markings = []
    if rand.random() < 0.3:
        level = rand.choice(["CONFIDENTIAL", "SECRET", "TOP_SECRET"])
        markings.append(m.FieldMarking(path=_FIELD[notice_type], level=m.Level(level)))
    return m.Classification(
        level=rand.choices(list(m.Level), weights=[4, 4, 3, 2, 1])[0],
        national_marking=None,
        tlp=rand.choices(list(m.Tlp), weights=[2, 3, 4, 1, 1])[0],
        releasable_to=releasable,
        not_releasable_to=some(_COUNTRIES, 1) if rand.random() < 0.2 else [],
        originator_controlled=rand.random() < 0.1,
        caveats=caveats,
        field_markings=markings,
    )


def _body(notice_type: m.NoticeType, notice_id: str) -> m.Body:
    name = [m.Name(full_name=f"Subject {notice_id}")]
    if notice_type is m.NoticeType.WANTED_PERSON:
        return m.WantedPersonNotice(
            subject=m.PersonSubject(names=name, place_of_birth="Somewhere"),
            action_requested=m.RequestedAction.ARREST,
        )
    if notice_type is m.NoticeType.INTEL_BULLETIN:
        return m.IntelBulletin(title=f"Bulletin {notice_id}", text="Source details")
    return m.FreezeOrder(
        listing_reference=f"REF-{notice_id}",
        subject=m.ListedSubject(kind=m.SubjectKind.ENTITY, names=name),
        measures=[m.Measure.ASSET_FREEZE],
    )


def poison(count: int, *, seed: int) -> list[Poison]:
    """Records that fail to decode (notices topics) or to translate (raw topics), alternating
    over every input topic kind."""
    rand = random.Random(seed)
    kinds = ["raw", *(str(kind) for kind in _TYPES)]
    letters = [
        b"\xc3\x01" + rand.randbytes(8) + b"not avro",
        b"{not json",
        b"\x00\x00\x00\x00\x07truncated",
        b"",
    ]
    return [Poison(kinds[i % len(kinds)], letters[i % len(letters)]) for i in range(count)]
