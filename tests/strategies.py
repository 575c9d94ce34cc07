"""Hypothesis strategies for canonical notices, shared by round-trip and property tests."""

from __future__ import annotations

import datetime as dt
import itertools
import string
from typing import Any

from hypothesis import strategies as st

from broker import models as m
from broker.policy.profiles import GroupDefinition, Policy, RecipientProfile

text = st.text(min_size=1, max_size=30)
opt_text = st.none() | text
country = st.sampled_from(["FR", "DE", "PL", "RU", "UY", "BR", "US", "GB", "ZW", "IR"])
words = st.lists(st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=8), max_size=3)
sha256 = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
# timestamp-micros: whole microseconds in UTC, inside the range Avro's long covers comfortably.
instant = st.datetimes(
    min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=st.just(dt.UTC)
)
day = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 1, 1))


@st.composite
def partial_dates(draw: st.DrawFn) -> m.PartialDate:
    full = draw(day)
    precision = draw(st.sampled_from(["year", "month", "day"]))
    return m.PartialDate(
        year=full.year,
        month=full.month if precision != "year" else None,
        day=full.day if precision == "day" else None,
        approximate=draw(st.booleans()),
    )


def _b(model: type[Any], **fields: Any) -> st.SearchStrategy[Any]:
    return st.builds(model, **fields)


date_spans = _b(m.DateSpan, earliest=partial_dates(), latest=st.none() | partial_dates())
names = _b(
    m.Name,
    full_name=text,
    given_names=opt_text,
    family_name=opt_text,
    script=st.none() | st.sampled_from(["Latn", "Arab", "Cyrl", "Grek"]),
    lang=st.none() | st.sampled_from(["en", "fr", "ar"]),
)
aliases = _b(m.Alias, name=names, quality=st.sampled_from(m.AliasQuality))
documents = _b(
    m.IdentityDocument,
    kind=st.sampled_from(["PASSPORT", "NATIONAL_ID", "IMO_NUMBER"]),
    number=text,
    issuing_country=st.none() | country,
    issued_on=st.none() | partial_dates(),
    expires_on=st.none() | partial_dates(),
    note=opt_text,
)
related_entities = _b(m.RelatedEntity, kind=text, name=text, ref=opt_text)
levels = st.sampled_from(m.Level)
classifications = _b(
    m.Classification,
    level=levels,
    national_marking=opt_text,
    tlp=st.sampled_from(m.Tlp),
    releasable_to=st.lists(country | st.just("group:EU"), max_size=3),
    not_releasable_to=st.lists(country, max_size=2),
    originator_controlled=st.booleans(),
    caveats=words,
    field_markings=st.lists(_b(m.FieldMarking, path=text, level=levels, caveats=words), max_size=2),
)
wanted_bodies = _b(
    m.WantedPersonNotice,
    subject=_b(
        m.PersonSubject,
        names=st.lists(names, min_size=1, max_size=2),
        aliases=st.lists(aliases, max_size=2),
        sex=st.sampled_from(m.Sex),
        dates_of_birth=st.lists(date_spans, max_size=2),
        place_of_birth=opt_text,
        country_of_birth=st.none() | country,
        nationalities=st.lists(country, max_size=2),
        identity_documents=st.lists(documents, max_size=2),
        height_m=st.none() | st.floats(min_value=0.5, max_value=2.5),
        weight_kg=st.none() | st.floats(min_value=20, max_value=250),
        languages=words,
        description=opt_text,
        photos=st.lists(_b(m.PhotoRef, uri=text, sha256=st.none() | sha256), max_size=2),
    ),
    charges=st.lists(
        _b(
            m.Charge,
            offence=text,
            offence_translation=opt_text,
            legal_reference=opt_text,
            jurisdiction=st.none() | country,
        ),
        max_size=2,
    ),
    warrant=st.none()
    | _b(m.Warrant, authority=opt_text, issued_on=st.none() | partial_dates(), reference=opt_text),
    requesting_country=st.none() | country,
    last_seen=st.none()
    | _b(m.LastSeen, date=st.none() | partial_dates(), place=opt_text, country=st.none() | country),
    likely_destinations=st.lists(country, max_size=2),
    relatives=st.lists(_b(m.Relative, relation=text, name=names), max_size=2),
    related=st.lists(related_entities, max_size=2),
    action_requested=st.sampled_from(m.RequestedAction),
    caution_flags=words,
)
intel_bodies = _b(
    m.IntelBulletin,
    title=text,
    summary=opt_text,
    text=opt_text,
    threat_level=st.sampled_from(m.ThreatLevel),
    topics=words,
    indicators=st.lists(_b(m.Indicator, kind=text, value=text, description=opt_text), max_size=2),
    related_entities=st.lists(related_entities, max_size=2),
    source_reliability=st.none() | st.sampled_from(m.SourceReliability),
    information_credibility=st.none() | st.integers(1, 6),
    valid_from=st.none() | instant,
    valid_until=st.none() | instant,
)
freeze_bodies = _b(
    m.FreezeOrder,
    legal_basis=st.lists(
        _b(m.LegalAct, authority=text, reference=text, title=opt_text, url=opt_text), max_size=2
    ),
    listing_reference=opt_text,
    programmes=words,
    subject=_b(
        m.ListedSubject,
        kind=st.sampled_from(m.SubjectKind),
        names=st.lists(names, min_size=1, max_size=2),
        aliases=st.lists(aliases, max_size=2),
        sex=st.sampled_from(m.Sex),
        dates_of_birth=st.lists(date_spans, max_size=2),
        places_of_birth=st.lists(text, max_size=2),
        nationalities=st.lists(country, max_size=2),
        identifiers=st.lists(documents, max_size=2),
        addresses=st.lists(
            _b(
                m.Address,
                full=opt_text,
                street=opt_text,
                city=opt_text,
                region=opt_text,
                postal_code=opt_text,
                country=st.none() | country,
            ),
            max_size=2,
        ),
    ),
    measures=st.lists(st.sampled_from(m.Measure), max_size=3),
    listed_on=st.none() | day,
    amended_on=st.none() | day,
)
_BODIES = {
    m.NoticeType.WANTED_PERSON: wanted_bodies,
    m.NoticeType.INTEL_BULLETIN: intel_bodies,
    m.NoticeType.FREEZE_ORDER: freeze_bodies,
}


@st.composite
def notices(draw: st.DrawFn, notice_type: m.NoticeType | None = None) -> m.NoticeEnvelope:
    kind = notice_type or draw(st.sampled_from(m.NoticeType))
    return m.NoticeEnvelope(
        notice_id=draw(text),
        version=draw(st.integers(1, 1000)),
        msg_type=draw(st.sampled_from(m.MsgType)),
        references=draw(
            st.lists(_b(m.NoticeReference, notice_id=text, version=st.integers(1, 99)), max_size=2)
        ),
        notice_type=kind,
        originator=draw(
            _b(
                m.Originator,
                agency_id=st.sampled_from(["interpol", "fr-police", "bka"]),
                country=st.none() | country,
            )
        ),
        issued_at=draw(instant),
        not_before=draw(st.none() | instant),
        expires_at=draw(st.none() | instant),
        classification=draw(classifications),
        source=draw(
            _b(
                m.Source,
                format=text,
                original_id=opt_text,
                adapter=text,
                adapter_version=text,
                received_at=instant,
                sha256=sha256,
            )
        ),
        body=draw(_BODIES[kind]),
    )


# Sharing policy. Small universes of agencies, countries, groups and caveats, so that a notice's
# markings and a recipient's profile meet often; a few malformed or unknown entries, so that the
# most restrictive readings are exercised too. Sets are drawn whole from their few subsets, and
# markings lean towards the permissive side, so that a fair share of pairs ends in a delivery.
POLICY_GROUPS = ("EU", "SCHENGEN", "FIVE_EYES")
policy_agencies = st.sampled_from(
    ["de-bka", "fr-pj", "nl-politie", "europol", "uk-nca", "us-fbi", "interpol"]
)
policy_countries = st.sampled_from(["DE", "FR", "NL", "GB", "US"])


def _subsets(*items: str) -> st.SearchStrategy[tuple[str, ...]]:
    return st.sampled_from(
        [chosen for size in range(len(items) + 1) for chosen in itertools.combinations(items, size)]
    )


release_entries = st.sampled_from(
    [
        *("DE", "FR", "NL", "GB", "US"),
        *("de-bka", "fr-pj", "nl-politie", "europol", "uk-nca", "us-fbi", "interpol"),
        *(f"group:{name}" for name in (*POLICY_GROUPS, "NATO")),  # NATO: defined only sometimes
        "fr",  # well formed, but no agency has that id: names nobody
        *("Fr", "FRA", "group:eu", "UK"),  # malformed, or (UK) no country's code
    ]
)
MARKABLE_PATHS: dict[m.NoticeType, list[str]] = {
    m.NoticeType.WANTED_PERSON: [
        "subject",
        "subject.names",
        "subject.names.[0]",
        "subject.names.[1]",
        "subject.sex",
        "subject.identity_documents",
        "subject.nationalities",
        "subject.nationalities.[0]",
        "subject.dates_of_birth.[0]",
        "subject.photos.[0].uri",
        "warrant.reference",
        "charges.[0].offence",
        "caution_flags.[0]",
        "action_requested",
        "subjekt.names",
        "",
    ],
    m.NoticeType.INTEL_BULLETIN: [
        "title",
        "summary",
        "text",
        "threat_level",
        "source_reliability",
        "valid_from",
        "topics.[0]",
        "indicators.[0]",
        "indicators.[1]",
        "indicators.[2]",
        "indicators.[0].value",
        "indicators[0]",
    ],
    m.NoticeType.FREEZE_ORDER: [
        "subject",
        "subject.kind",
        "subject.names",
        "subject.names.[0]",
        "subject.addresses",
        "subject.identifiers.[0].number",
        "listing_reference",
        "listed_on",
        "measures",
        "measures.[0]",
        "legal_basis.[0].title",
    ],
}
"""Field paths worth marking, per body type: most resolve, some only in some bodies (an index
past a short list, a field inside an absent record), some never, some have no redacted form."""


@st.composite
def recipient_profiles(draw: st.DrawFn, agency_id: str | None = None) -> RecipientProfile:
    return RecipientProfile(
        agency_id=agency_id or draw(policy_agencies),
        country=draw(policy_countries),
        clearance=draw(levels),
        groups=draw(_subsets(*POLICY_GROUPS)),
        caveats=draw(_subsets("CT", "SOC", "HUMINT")),
        tlp_communities=draw(_subsets("eu-le", "five-eyes-le", "interpol-ncb")),
    )


@st.composite
def policies(draw: st.DrawFn, min_recipients: int = 1) -> Policy:
    agency_ids = draw(st.lists(policy_agencies, min_size=min_recipients, max_size=7, unique=True))
    names = (*POLICY_GROUPS, "NATO") if draw(st.booleans()) else POLICY_GROUPS
    return Policy(
        groups={name: GroupDefinition(description=f"the {name} group") for name in names},
        recipients=tuple(draw(recipient_profiles(agency_id)) for agency_id in agency_ids),
    )


@st.composite
def remarked(draw: st.DrawFn, notice: m.NoticeEnvelope, now: dt.datetime) -> m.NoticeEnvelope:
    """``notice`` with markings, originator and time limits drawn to meet ``policies()``."""

    def near_now() -> dt.datetime | None:
        days = draw(st.sampled_from([*[None] * 6, -1, 0, 1, 2]))
        return None if days is None else now + dt.timedelta(days=days)

    low_levels = st.sampled_from([*[m.Level.UNCLASSIFIED] * 3, *[m.Level.RESTRICTED] * 2, *m.Level])
    few_caveats = st.sampled_from([*[()] * 5, ("CT",), ("SOC",), ("CT", "SOC")])
    classification = m.Classification(
        level=draw(low_levels),
        tlp=draw(st.sampled_from(m.Tlp)),
        releasable_to=draw(st.lists(release_entries, max_size=4)),
        not_releasable_to=draw(st.lists(release_entries, max_size=1)),
        originator_controlled=draw(st.sampled_from([False, False, False, True])),
        caveats=list(draw(few_caveats)),
        field_markings=draw(
            st.lists(
                _b(
                    m.FieldMarking,
                    path=st.sampled_from(MARKABLE_PATHS[notice.notice_type]),
                    level=levels,
                    caveats=few_caveats.map(list),
                ),
                max_size=3,
            )
        ),
    )
    return notice.model_copy(
        update={
            "originator": m.Originator(
                agency_id=draw(policy_agencies | st.just("unknown-agency")),
                country=draw(st.none() | policy_countries),
            ),
            "not_before": near_now(),
            "expires_at": near_now(),
            "classification": classification,
        }
    )
