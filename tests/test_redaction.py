"""Redaction by field path: each kind of place, before and after, and paths that go nowhere."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from broker import models as m
from broker.policy.redaction import REDACTED, PathProblem, path_problem, redact
from broker.schema_catalog import SchemaCatalog
from broker.serde import NoticeSerde
from tests.samples import sample_notice

BLANK_NAME = m.Name(full_name=REDACTED)


def _with(body: m.Body, notice_type: m.NoticeType, *marked: str) -> m.NoticeEnvelope:
    base = sample_notice()
    classification = base.classification.model_copy(
        update={
            "field_markings": [m.FieldMarking(path=path, level=m.Level.SECRET) for path in marked]
        }
    )
    return base.model_copy(
        update={"notice_type": notice_type, "body": body, "classification": classification}
    )


WANTED = _with(
    m.WantedPersonNotice(
        subject=m.PersonSubject(
            names=[
                m.Name(full_name="Jean Exemple", given_names="Jean", family_name="Exemple"),
                m.Name(full_name="Жан Пример", script="Cyrl"),
            ],
            aliases=[m.Alias(name=m.Name(full_name="Le Notaire"), quality=m.AliasQuality.STRONG)],
            sex=m.Sex.MALE,
            dates_of_birth=[m.DateSpan(earliest=m.PartialDate(year=1975, month=6, day=2))],
            place_of_birth="Lyon",
            nationalities=["FR", "BE"],
            identity_documents=[m.IdentityDocument(kind="PASSPORT", number="19FR00000")],
        ),
        charges=[m.Charge(offence="Fraud", legal_reference="Code pénal art. 313-1")],
        warrant=m.Warrant(authority="Tribunal judiciaire de Lyon", reference="W-2024-17"),
        action_requested=m.RequestedAction.ARREST,
        caution_flags=["armed", "violent"],
    ),
    m.NoticeType.WANTED_PERSON,
    "subject.identity_documents",
)
INTEL = _with(
    m.IntelBulletin(
        title="Counterfeit medicine network",
        text="Informant reports weekly shipments.",
        threat_level=m.ThreatLevel.SUBSTANTIAL,
        indicators=[
            m.Indicator(kind="phone", value="+31 6 0000 0000", description="burner"),
            m.Indicator(kind="iban", value="NL00 BANK 0000 0000 00"),
            m.Indicator(kind="domain", value="pharma.example"),
        ],
        valid_from=dt.datetime(2024, 5, 1, tzinfo=dt.UTC),
    ),
    m.NoticeType.INTEL_BULLETIN,
)
FREEZE = _with(
    m.FreezeOrder(
        subject=m.ListedSubject(
            kind=m.SubjectKind.ENTITY,
            names=[m.Name(full_name="Example Trading LLC")],
            addresses=[m.Address(city="Dubai", country="AE")],
        ),
        measures=[m.Measure.ASSET_FREEZE],
    ),
    m.NoticeType.FREEZE_ORDER,
)


def _get(notice: m.NoticeEnvelope, path: str) -> Any:
    value: Any = notice.body
    for part in path.split("."):
        value = value[int(part[1:-1])] if part.startswith("[") else getattr(value, part)
    return value


@pytest.mark.parametrize(
    ("notice", "path", "after"),
    [
        # A field with a default takes it
        pytest.param(WANTED, "subject.place_of_birth", None, id="optional-string"),
        pytest.param(WANTED, "warrant", None, id="optional-record"),
        pytest.param(WANTED, "warrant.reference", None, id="field-in-optional-record"),
        pytest.param(WANTED, "subject.identity_documents", [], id="list"),
        pytest.param(WANTED, "subject.sex", m.Sex.UNKNOWN, id="enum-with-default"),
        pytest.param(INTEL, "text", None, id="optional-text"),
        pytest.param(INTEL, "valid_from", None, id="optional-timestamp"),
        pytest.param(INTEL, "indicators", [], id="list-of-records"),
        # A required field is blanked
        pytest.param(INTEL, "title", REDACTED, id="required-string"),
        pytest.param(WANTED, "charges.[0].offence", REDACTED, id="required-string-in-element"),
        pytest.param(WANTED, "subject.names", [], id="required-list"),
        pytest.param(
            WANTED, "subject", m.PersonSubject(names=[]), id="required-record-field-by-field"
        ),
        # A list element is blanked in place, so later elements keep their index
        pytest.param(WANTED, "subject.names.[1]", BLANK_NAME, id="record-element"),
        pytest.param(WANTED, "caution_flags.[0]", REDACTED, id="string-element"),
        pytest.param(
            WANTED,
            "subject.aliases.[0]",
            m.Alias(name=BLANK_NAME, quality=m.AliasQuality.UNKNOWN),
            id="nested-record-element",
        ),
        pytest.param(
            INTEL, "indicators.[1]", m.Indicator(kind=REDACTED, value=REDACTED), id="indicator"
        ),
        pytest.param(FREEZE, "subject.names.[0]", BLANK_NAME, id="element-of-non-empty-list"),
        pytest.param(FREEZE, "subject.addresses.[0]", m.Address(), id="all-optional-element"),
        pytest.param(
            WANTED,
            "subject.dates_of_birth.[0].earliest.day",
            None,
            id="day-of-partial-date",
        ),
    ],
)
def test_redacting_one_path(notice: m.NoticeEnvelope, path: str, after: Any) -> None:
    assert path_problem(notice.body, path) is None

    redacted = redact(notice, [path])

    assert _get(redacted, path) == after
    assert _get(notice, path) != after, "the case must change something"
    # Everything else is as it was: putting the original value back gives the original.
    assert _restored(redacted, notice, path) == notice
    assert redacted.classification == notice.classification
    assert redact(redacted, [path]) == redacted


def _restored(
    redacted: m.NoticeEnvelope, original: m.NoticeEnvelope, path: str
) -> m.NoticeEnvelope:
    """``redacted`` with the original value put back at ``path``."""
    keys: list[Any] = [int(p[1:-1]) if p.startswith("[") else p for p in path.split(".")]
    body: Any = redacted.body.model_dump()
    target, source = body, original.body.model_dump()
    for key in keys[:-1]:
        target, source = target[key], source[key]
    target[keys[-1]] = source[keys[-1]]
    return original.model_copy(update={"body": type(original.body).model_validate(body)})


@pytest.mark.parametrize("notice", [WANTED, INTEL, FREEZE], ids=["wanted", "intel", "freeze"])
def test_a_redacted_notice_still_makes_a_valid_avro_message(notice: m.NoticeEnvelope) -> None:
    paths = {
        m.NoticeType.WANTED_PERSON: ["subject.names.[0]", "warrant", "subject.identity_documents"],
        m.NoticeType.INTEL_BULLETIN: ["title", "indicators.[2]", "text"],
        m.NoticeType.FREEZE_ORDER: ["subject.names.[0].full_name", "subject.addresses"],
    }[notice.notice_type]
    serde = NoticeSerde(SchemaCatalog.from_directory())

    redacted = redact(notice, paths)

    assert m.NoticeEnvelope.model_validate(redacted.model_dump(mode="json")) == redacted
    assert serde.decode(serde.encode(redacted)) == redacted


def test_redacted_elements_keep_their_place() -> None:
    body = redact(INTEL, ["indicators.[0]", "indicators.[1]"]).body

    assert isinstance(body, m.IntelBulletin)
    assert [i.value for i in body.indicators] == [REDACTED, REDACTED, "pharma.example"]


@pytest.mark.parametrize(
    ("notice", "paths", "outer"),
    [
        pytest.param(INTEL, ["indicators", "indicators.[0].value"], "indicators", id="outer-first"),
        pytest.param(INTEL, ["indicators.[0].value", "indicators"], "indicators", id="inner-first"),
        pytest.param(INTEL, ["indicators", "indicators.[9]"], "indicators", id="inner-nowhere"),
        pytest.param(FREEZE, ["measures.[0]", "measures"], "measures", id="inner-unredactable"),
    ],
)
def test_a_field_inside_a_redacted_field_goes_with_it(
    notice: m.NoticeEnvelope, paths: list[str], outer: str
) -> None:
    assert redact(notice, paths) == redact(notice, [outer])


def test_the_original_notice_and_its_markings_are_kept() -> None:
    redacted = redact(WANTED, ["subject.identity_documents"])

    assert isinstance(WANTED.body, m.WantedPersonNotice)
    assert WANTED.body.subject.identity_documents
    assert redacted.classification.field_markings == [
        m.FieldMarking(path="subject.identity_documents", level=m.Level.SECRET)
    ]


@pytest.mark.parametrize(
    ("notice", "path"),
    [
        pytest.param(WANTED, "no_such_field", id="unknown-field"),
        pytest.param(WANTED, "subjekt.names", id="misspelt-parent"),
        pytest.param(WANTED, "subject.names.[2]", id="index-past-the-end"),
        pytest.param(WANTED, "subject.names.[-1]", id="negative-index"),
        pytest.param(WANTED, "subject.names.[01]", id="index-with-leading-zero"),
        pytest.param(WANTED, "subject.names[0]", id="index-without-dot"),
        pytest.param(WANTED, "subject..names", id="empty-segment"),
        pytest.param(WANTED, "subject.names.first", id="field-of-a-list"),
        pytest.param(WANTED, "subject.sex.value", id="inside-a-scalar"),
        pytest.param(WANTED, "[0]", id="index-of-the-body"),
        pytest.param(WANTED, "", id="the-whole-body"),
        pytest.param(WANTED, "model_config", id="not-a-field"),
        pytest.param(INTEL, "summary.text", id="inside-an-absent-field"),
    ],
)
def test_a_path_that_leads_nowhere_redacts_nothing(notice: m.NoticeEnvelope, path: str) -> None:
    assert path_problem(notice.body, path) is PathProblem.UNRESOLVABLE
    assert redact(notice, [path]) == notice


@pytest.mark.parametrize(
    ("notice", "path"),
    [
        pytest.param(WANTED, "action_requested", id="required-enum"),
        pytest.param(WANTED, "subject.nationalities.[0]", id="country-code-in-a-list"),
        pytest.param(WANTED, "subject.dates_of_birth.[0]", id="date-span-needs-a-year"),
        pytest.param(WANTED, "subject.dates_of_birth.[0].earliest.year", id="required-number"),
        pytest.param(
            WANTED, "subject.dates_of_birth.[0].earliest.month", id="month-of-a-date-with-a-day"
        ),
        pytest.param(FREEZE, "subject", id="record-with-a-required-enum"),
        pytest.param(FREEZE, "subject.names", id="list-that-may-not-be-empty"),
        pytest.param(FREEZE, "measures.[0]", id="enum-in-a-list"),
    ],
)
def test_a_path_with_no_redacted_form_is_refused(notice: m.NoticeEnvelope, path: str) -> None:
    assert path_problem(notice.body, path) is PathProblem.UNREDACTABLE
    with pytest.raises(ValueError, match="cannot be redacted"):
        redact(notice, [path])
