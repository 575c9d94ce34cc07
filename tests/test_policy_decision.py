"""The decision rule by rule and in combination: one table row per case, outcome and reasons."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from broker import models as m
from broker.policy import decision as decision_module
from broker.policy.decision import Decision, Outcome, Rule, decide
from broker.policy.explain import explain
from broker.policy.profiles import GroupDefinition, Policy, RecipientProfile
from tests.samples import sample_notice

NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)

POLICY = Policy(
    groups={
        "EU": GroupDefinition(description="European Union"),
        "SCHENGEN": GroupDefinition(description="Schengen area"),
        "FIVE_EYES": GroupDefinition(description="AU, CA, GB, NZ, US"),
    },
    recipients=(
        RecipientProfile(
            agency_id="de-bka",
            country="DE",
            clearance=m.Level.SECRET,
            groups=("EU", "SCHENGEN"),
            caveats=("CT",),
            tlp_communities=("eu-le",),
        ),
        RecipientProfile(
            agency_id="fr-pj",
            country="FR",
            clearance=m.Level.CONFIDENTIAL,
            groups=("EU", "SCHENGEN"),
            tlp_communities=("eu-le",),
        ),
        RecipientProfile(
            agency_id="us-fbi",
            country="US",
            clearance=m.Level.TOP_SECRET,
            groups=("FIVE_EYES",),
            caveats=("CT", "SOC"),
            tlp_communities=("five-eyes-le",),
        ),
        RecipientProfile(
            agency_id="europol",
            country="NL",
            clearance=m.Level.RESTRICTED,
            groups=("EU",),
            caveats=("SOC",),
            tlp_communities=("eu-le", "interpol-ncb"),
        ),
        RecipientProfile(
            agency_id="interpol",
            country="FR",
            clearance=m.Level.UNCLASSIFIED,
            tlp_communities=("interpol-ncb",),
        ),
    ),
)

INTEL_BODY = m.IntelBulletin(
    title="Counterfeit medicine network",
    summary="Shipments through Rotterdam",
    text="Informant reports weekly shipments.",
    indicators=[
        m.Indicator(kind="phone", value="+31 6 0000 0000"),
        m.Indicator(kind="iban", value="NL00 BANK 0000 0000 00"),
    ],
)


def _notice(
    *,
    body: str = "intel",
    originator: str = "fr-pj",
    not_before: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
    fields: tuple[tuple[str, m.Level, list[str]], ...] = (),
    **classification: Any,
) -> m.NoticeEnvelope:
    """An UNCLASSIFIED TLP:CLEAR notice unless told otherwise, under the given markings."""
    base = sample_notice()
    if body == "intel":
        base = base.model_copy(
            update={"notice_type": m.NoticeType.INTEL_BULLETIN, "body": INTEL_BODY}
        )
    return base.model_copy(
        update={
            "originator": m.Originator(agency_id=originator),
            "not_before": not_before,
            "expires_at": expires_at,
            "classification": m.Classification(
                **{"level": m.Level.UNCLASSIFIED, "tlp": m.Tlp.CLEAR, **classification},
                field_markings=[
                    m.FieldMarking(path=path, level=level, caveats=caveats)
                    for path, level, caveats in fields
                ],
            ),
        }
    )


D, R, F, W = Outcome.DELIVER, Outcome.DELIVER_REDACTED, Outcome.DEFER, Outcome.WITHHOLD
L = m.Level
CLEAR, GREEN, AMBER, STRICT, RED = m.Tlp  # in the enum's order


def case(
    name: str,
    recipient: str,
    outcome: Outcome,
    rules: tuple[str, ...],
    redacted: tuple[str, ...] = (),
    **notice: Any,
) -> Any:
    return pytest.param(recipient, notice, outcome, rules, redacted, id=name)


CASES = [
    # Level and caveats
    case("clear-to-everyone", "de-bka", D, ("tlp-clear",)),
    case("level-above-clearance", "fr-pj", W, ("clearance",), level=L.SECRET),
    case("level-equal-to-clearance", "fr-pj", D, ("tlp-clear",), level=L.CONFIDENTIAL),
    case("caveat-missing", "fr-pj", W, ("caveat",), caveats=["CT"]),
    case("caveats-all-held", "us-fbi", D, ("tlp-clear",), caveats=["CT", "SOC"]),
    case("one-caveat-of-two", "de-bka", W, ("caveat",), caveats=["CT", "SOC"]),
    # Exclusions
    case("excluded-by-country", "fr-pj", W, ("not-releasable",), not_releasable_to=["FR"]),
    case("excluded-by-agency", "de-bka", W, ("not-releasable",), not_releasable_to=["de-bka"]),
    case(
        "excluded-by-group", "us-fbi", W, ("not-releasable",), not_releasable_to=["group:FIVE_EYES"]
    ),
    case(
        "other-group-excluded", "de-bka", D, ("tlp-clear",), not_releasable_to=["group:FIVE_EYES"]
    ),
    case(
        "exclusion-of-undefined-group",
        "de-bka",
        W,
        ("unresolvable-exclusion",),
        not_releasable_to=["group:NATO"],
    ),
    case("malformed-exclusion", "de-bka", W, ("unresolvable-exclusion",), not_releasable_to=["Fr"]),
    case(
        "unassigned-country-excluded",
        "de-bka",
        W,
        ("unresolvable-exclusion",),
        not_releasable_to=["UK"],
    ),
    case("unknown-agency-excluded", "de-bka", D, ("tlp-clear",), not_releasable_to=["xx-police"]),
    case(
        "exclusion-beats-group-release",
        "fr-pj",
        W,
        ("not-releasable",),
        tlp=AMBER,
        releasable_to=["group:EU"],
        not_releasable_to=["FR"],
    ),
    case(
        "exclusion-beats-naming",
        "de-bka",
        W,
        ("not-releasable",),
        tlp=RED,
        releasable_to=["de-bka"],
        not_releasable_to=["de-bka"],
    ),
    # releasable_to under labels that do not read it themselves
    case("clear-list-restricts", "fr-pj", W, ("releasable-to",), releasable_to=["DE"]),
    case("clear-list-grants", "de-bka", D, ("releasable-to", "tlp-clear"), releasable_to=["DE"]),
    case(
        "green-list-restricts",
        "europol",
        W,
        ("releasable-to",),
        tlp=GREEN,
        releasable_to=["DE"],
    ),
    # TLP:GREEN
    case("green-community", "de-bka", D, ("tlp-green",), tlp=GREEN),
    case("green-outside-community", "us-fbi", W, ("tlp-green",), tlp=GREEN),
    case("green-to-its-originator", "fr-pj", D, ("tlp-green",), tlp=GREEN),
    case("green-other-community", "europol", D, ("tlp-green",), tlp=GREEN, originator="interpol"),
    case("green-not-that-community", "de-bka", W, ("tlp-green",), tlp=GREEN, originator="interpol"),
    case(
        "green-unknown-originator-named",
        "de-bka",
        D,
        ("tlp-green-as-amber",),
        tlp=GREEN,
        originator="xx-police",
        releasable_to=["group:EU"],
    ),
    case(
        "green-unknown-originator-unnamed",
        "de-bka",
        W,
        ("tlp-green-as-amber",),
        tlp=GREEN,
        originator="xx-police",
    ),
    # TLP:AMBER
    case("amber-by-agency", "de-bka", D, ("tlp-amber",), tlp=AMBER, releasable_to=["de-bka"]),
    case("amber-by-country", "de-bka", D, ("tlp-amber",), tlp=AMBER, releasable_to=["DE"]),
    case("amber-by-group", "europol", D, ("tlp-amber",), tlp=AMBER, releasable_to=["group:EU"]),
    case("amber-not-named", "us-fbi", W, ("tlp-amber",), tlp=AMBER, releasable_to=["group:EU"]),
    case("amber-empty-list", "de-bka", W, ("tlp-amber",), tlp=AMBER),
    case("amber-malformed-entry", "de-bka", W, ("tlp-amber",), tlp=AMBER, releasable_to=["De"]),
    # TLP:AMBER+STRICT and TLP:RED: the agency id only
    case(
        "strict-by-agency", "de-bka", D, ("tlp-amber-strict",), tlp=STRICT, releasable_to=["de-bka"]
    ),
    case("strict-by-country", "de-bka", W, ("tlp-amber-strict",), tlp=STRICT, releasable_to=["DE"]),
    case(
        "strict-by-group",
        "de-bka",
        W,
        ("tlp-amber-strict",),
        tlp=STRICT,
        releasable_to=["group:EU"],
    ),
    case("red-named", "us-fbi", D, ("tlp-red",), tlp=RED, releasable_to=["us-fbi"]),
    case("red-by-group", "us-fbi", W, ("tlp-red",), tlp=RED, releasable_to=["group:FIVE_EYES"]),
    case("red-empty-list", "us-fbi", W, ("tlp-red",), tlp=RED),
    case("red-someone-else", "de-bka", W, ("tlp-red",), tlp=RED, releasable_to=["us-fbi"]),
    # Originator control
    case(
        "orcon-named",
        "de-bka",
        D,
        ("releasable-to", "tlp-clear", "originator-controlled"),
        originator_controlled=True,
        releasable_to=["de-bka"],
    ),
    case(
        "orcon-by-country",
        "de-bka",
        W,
        ("originator-controlled",),
        tlp=AMBER,
        originator_controlled=True,
        releasable_to=["DE"],
    ),
    case(
        "orcon-by-group",
        "de-bka",
        W,
        ("originator-controlled",),
        originator_controlled=True,
        releasable_to=["group:EU"],
    ),
    case("orcon-empty-list", "de-bka", W, ("originator-controlled",), originator_controlled=True),
    # Time limits
    case("expired", "de-bka", W, ("expired",), expires_at=NOW - HOUR),
    case("expires-this-instant", "de-bka", W, ("expired",), expires_at=NOW),
    case("expires-later", "de-bka", D, ("tlp-clear",), expires_at=NOW + HOUR),
    case("embargoed", "de-bka", F, ("tlp-clear", "embargo"), not_before=NOW + HOUR),
    case("embargo-ends-this-instant", "de-bka", D, ("tlp-clear",), not_before=NOW),
    case("embargo-over", "de-bka", D, ("tlp-clear",), not_before=NOW - HOUR),
    case(
        "embargo-outlasts-expiry",
        "de-bka",
        W,
        ("embargo-outlasts-expiry",),
        not_before=NOW + 2 * HOUR,
        expires_at=NOW + HOUR,
    ),
    case(
        "embargo-ends-as-it-expires",
        "de-bka",
        W,
        ("embargo-outlasts-expiry",),
        not_before=NOW + HOUR,
        expires_at=NOW + HOUR,
    ),
    case(
        "embargo-then-expiry",
        "de-bka",
        F,
        ("tlp-clear", "embargo"),
        not_before=NOW + HOUR,
        expires_at=NOW + 2 * HOUR,
    ),
    case(
        "denial-beats-embargo",
        "fr-pj",
        W,
        ("clearance",),
        level=L.TOP_SECRET,
        not_before=NOW + HOUR,
    ),
    case(
        "expired-and-embargoed",
        "de-bka",
        W,
        ("expired", "embargo-outlasts-expiry"),
        not_before=NOW + HOUR,
        expires_at=NOW - HOUR,
    ),
    # Field markings
    case(
        "field-above-clearance",
        "fr-pj",
        R,
        ("tlp-clear", "field-marking"),
        ("text",),
        fields=(("text", L.SECRET, []),),
    ),
    case("field-cleared", "de-bka", D, ("tlp-clear",), fields=(("text", L.SECRET, []),)),
    case(
        "field-below-notice-level",
        "fr-pj",
        D,
        ("tlp-clear",),
        level=L.CONFIDENTIAL,
        fields=(("text", L.RESTRICTED, []),),
    ),
    case(
        "field-caveat-missing",
        "fr-pj",
        R,
        ("tlp-clear", "field-marking"),
        ("text",),
        fields=(("text", L.UNCLASSIFIED, ["CT"]),),
    ),
    case(
        "field-caveat-held", "de-bka", D, ("tlp-clear",), fields=(("text", L.UNCLASSIFIED, ["CT"]),)
    ),
    case(
        "field-below-notice-level-with-caveat",
        "fr-pj",
        R,
        ("tlp-clear", "field-marking"),
        ("summary",),
        level=L.CONFIDENTIAL,
        fields=(("summary", L.RESTRICTED, ["SOC"]),),
    ),
    case(
        "fields-some-cleared",
        "de-bka",
        R,
        ("tlp-clear", "field-marking"),
        ("indicators.[1]",),
        fields=(("text", L.SECRET, []), ("indicators.[1]", L.TOP_SECRET, [])),
    ),
    case(
        "fields-none-cleared",
        "fr-pj",
        R,
        ("tlp-clear", "field-marking"),
        ("text", "indicators.[1]"),
        fields=(("text", L.SECRET, []), ("indicators.[1]", L.TOP_SECRET, [])),
    ),
    case(
        "field-marked-twice",
        "fr-pj",
        R,
        ("tlp-clear", "field-marking"),
        ("text",),
        fields=(("text", L.SECRET, []), ("text", L.TOP_SECRET, [])),
    ),
    case(
        "field-path-past-list-end",
        "fr-pj",
        W,
        ("unresolvable-field-marking",),
        fields=(("indicators.[5]", L.SECRET, []),),
    ),
    case(
        "field-path-misspelt",
        "fr-pj",
        W,
        ("unresolvable-field-marking",),
        fields=(("indicator.[0]", L.SECRET, []),),
    ),
    case(
        "field-whole-body",
        "fr-pj",
        W,
        ("unresolvable-field-marking",),
        fields=(("", L.SECRET, []),),
    ),
    case("bad-path-but-cleared", "de-bka", D, ("tlp-clear",), fields=(("no_such", L.SECRET, []),)),
    case(
        "field-unredactable",
        "fr-pj",
        W,
        ("unredactable-field-marking",),
        body="wanted",
        fields=(("action_requested", L.SECRET, []),),
    ),
    case(
        "bad-path-inside-redacted-field",
        "fr-pj",
        R,
        ("tlp-clear", "field-marking"),
        ("indicators", "indicators.[7]"),
        fields=(("indicators", L.SECRET, []), ("indicators.[7]", L.SECRET, [])),
    ),
    case(
        "unredactable-inside-redactable",
        "fr-pj",
        R,
        ("tlp-clear", "field-marking"),
        ("subject.nationalities.[0]", "subject.nationalities"),
        body="wanted",
        fields=(
            ("subject.nationalities.[0]", L.SECRET, []),
            ("subject.nationalities", L.SECRET, []),
        ),
    ),
    case(
        "embargoed-and-marked",
        "fr-pj",
        F,
        ("tlp-clear", "embargo", "field-marking"),
        ("text",),
        not_before=NOW + HOUR,
        fields=(("text", L.SECRET, []),),
    ),
    # Combinations
    case(
        "everything-wrong",
        "fr-pj",
        W,
        (
            "expired",
            "clearance",
            "caveat",
            "not-releasable",
            "tlp-red",
            "originator-controlled",
            "unresolvable-field-marking",
        ),
        tlp=RED,
        level=L.TOP_SECRET,
        caveats=["HUMINT"],
        not_releasable_to=["FR"],
        originator_controlled=True,
        expires_at=NOW,
        fields=(("nope", L.TOP_SECRET, []),),
    ),
    case(
        "amber-orcon-named-and-marked",
        "de-bka",
        R,
        ("tlp-amber", "originator-controlled", "field-marking"),
        ("text",),
        tlp=AMBER,
        originator_controlled=True,
        releasable_to=["de-bka"],
        fields=(("text", L.TOP_SECRET, []),),
    ),
    case(
        "every-grant-at-once",
        "fr-pj",
        F,
        ("releasable-to", "tlp-clear", "originator-controlled", "embargo", "field-marking"),
        ("text",),
        originator_controlled=True,
        releasable_to=["fr-pj"],
        not_before=NOW + HOUR,
        fields=(("text", L.SECRET, []),),
    ),
    case(
        "green-community-but-excluded-and-uncleared",
        "fr-pj",
        W,
        ("clearance", "not-releasable"),
        tlp=GREEN,
        level=L.SECRET,
        not_releasable_to=["group:SCHENGEN"],
    ),
]


@pytest.mark.parametrize(("recipient", "notice", "outcome", "rules", "redacted"), CASES)
def test_decision(
    recipient: str,
    notice: dict[str, Any],
    outcome: Outcome,
    rules: tuple[str, ...],
    redacted: tuple[str, ...],
) -> None:
    profile = POLICY.profile(recipient)
    assert profile is not None
    built = _notice(**notice)

    decision = decide(built, profile, NOW, POLICY)

    assert (decision.outcome, decision.rules, decision.redacted_fields) == (
        outcome,
        rules,
        redacted,
    )
    assert decision.release_at == (built.not_before if outcome is Outcome.DEFER else None)


def test_the_table_fires_every_rule() -> None:
    fired = {rule for param in CASES for rule in param.values[3]}
    assert fired == {rule.value for rule in Rule}


def test_every_rule_is_documented_in_the_table() -> None:
    table = decision_module.__doc__ or ""
    assert all(f"\n{rule.value} " in table for rule in Rule)


def test_decisions_do_not_depend_on_the_clock_or_on_earlier_calls() -> None:
    notice = _notice(tlp=AMBER, releasable_to=["group:EU"], fields=(("text", L.SECRET, []),))
    first = [decide(notice, r, NOW, POLICY) for r in POLICY.recipients]
    again = [decide(notice, r, NOW, POLICY) for r in reversed(POLICY.recipients)]
    assert first == list(reversed(again))


def test_a_naive_now_is_refused_even_when_no_time_limit_would_use_it() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(_notice(), POLICY.recipients[0], dt.datetime(2024, 6, 1), POLICY)


def test_decisions_serialise_with_their_rule_ids() -> None:
    decision = decide(_notice(not_before=NOW + HOUR), POLICY.recipients[0], NOW, POLICY)
    assert decision.model_dump(mode="json") == {
        "outcome": "DEFER",
        "rules": ["tlp-clear", "embargo"],
        "redacted_fields": [],
        "release_at": "2024-06-01T13:00:00Z",
    }
    assert Decision.model_validate_json(decision.model_dump_json()) == decision


def test_explain_decides_for_every_profile_in_policy_order() -> None:
    notice = _notice(tlp=AMBER, releasable_to=["group:EU"], fields=(("text", L.SECRET, []),))

    explained = explain(notice, POLICY, NOW)

    assert [(r.agency_id, d.outcome) for r, d in explained] == [
        ("de-bka", D),
        ("fr-pj", R),
        ("us-fbi", W),
        ("europol", R),
        ("interpol", W),
    ]
    assert all(d == decide(notice, r, NOW, POLICY) for r, d in explained)
