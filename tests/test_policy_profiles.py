"""Loading the policy file: a good one loads, a bad one names file, entry and problem."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from broker.errors import PolicyError
from broker.models import Level, Originator
from broker.policy.profiles import AGENCY_ID_PATTERN, Policy, RecipientProfile, load_policy

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "policy" / "policy.yml"

GOOD = """\
groups:
  EU:
    description: European Union
  FIVE_EYES:
    description: AU, CA, GB, NZ, US
recipients:
  - agency_id: de-bka
    country: DE
    clearance: SECRET
    groups: [EU]
    caveats: [CT]
    tlp_communities: [eu-le]
  - agency_id: fr-pj
    country: FR
    clearance: CONFIDENTIAL
    groups: [EU]
  - agency_id: us-fbi
    country: US
    clearance: TOP_SECRET
    groups: [FIVE_EYES]
"""


def _write(tmp_path: Path, text: str, name: str = "policy.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_policy_loads() -> None:
    policy = load_policy(EXAMPLE)

    assert [r.agency_id for r in policy.recipients] == [
        "de-bka",
        "fr-pj",
        "nl-politie",
        "europol",
        "uk-nca",
        "us-fbi",
        "interpol",
    ]
    assert set(policy.groups) == {"EU", "SCHENGEN", "FIVE_EYES", "NATO"}
    assert policy.profile("uk-nca") == RecipientProfile(
        agency_id="uk-nca",
        country="GB",
        clearance=Level.SECRET,
        groups=("FIVE_EYES", "NATO"),
        caveats=("SOC",),
        tlp_communities=("five-eyes-law-enforcement", "interpol-ncb"),
    )
    assert policy.profile("nobody") is None


def test_a_json_policy_loads_like_yaml(tmp_path: Path) -> None:
    as_json = json.dumps(yaml.safe_load(GOOD))
    assert load_policy(_write(tmp_path, as_json, "policy.json")) == load_policy(
        _write(tmp_path, GOOD)
    )


def test_recipient_agency_ids_follow_the_originator_pattern() -> None:
    """A recipient must be able to be the originator of a notice, and the other way round."""
    originator_pattern = [
        meta.pattern for meta in Originator.model_fields["agency_id"].metadata if meta.pattern
    ]
    assert originator_pattern == [AGENCY_ID_PATTERN]


@pytest.mark.parametrize(
    ("old", "new", "entry", "problem"),
    [
        pytest.param(
            "clearance: CONFIDENTIAL",
            "clearance: SUPER_SECRET",
            "recipients[1] (fr-pj)",
            "clearance: Input should be 'UNCLASSIFIED', 'RESTRICTED', 'CONFIDENTIAL', 'SECRET' "
            "or 'TOP_SECRET' (got 'SUPER_SECRET')",
            id="wrong-level",
        ),
        pytest.param(
            "agency_id: us-fbi",
            "agency_id: de-bka",
            "recipients[2] (de-bka)",
            "agency id already used by recipients[0]",
            id="duplicate-agency-id",
        ),
        pytest.param(
            "groups: [FIVE_EYES]",
            "groups: [FIVE_EYES, NATO]",
            "recipients[2] (us-fbi)",
            "group 'NATO' is not defined under 'groups' (defined: EU, FIVE_EYES)",
            id="undefined-group",
        ),
        pytest.param(
            "clearance: SECRET",
            "clearence: SECRET",
            "recipients[0] (de-bka)",
            "clearence: unknown key",
            id="unknown-key",
        ),
        pytest.param(
            "clearance: SECRET",
            "clearance: SECRET\n    clearance: TOP_SECRET",
            "line 10, column 5",
            "not valid YAML: duplicate key 'clearance'",
            id="key-given-twice",
        ),
        pytest.param(
            "    groups: [EU]\n    caveats",
            "    groups: [EU\n    caveats",
            "line 11, column 12",
            "not valid YAML: expected ',' or ']', but got ':'",
            id="yaml-syntax",
        ),
        pytest.param(
            "recipients:",
            "recipent:",
            "(top level)",
            "recipent: unknown key",
            id="unknown-top-level-key",
        ),
        pytest.param(
            "    country: US\n",
            "",
            "recipients[2] (us-fbi)",
            "country: required key missing",
            id="missing-key",
        ),
        pytest.param(
            "country: FR",
            "country: France",
            "recipients[1] (fr-pj)",
            "country: String should match pattern '^[A-Z]{2}$' (got 'France')",
            id="country-not-iso",
        ),
        pytest.param(
            "country: FR",
            "country: UK",
            "recipients[1] (fr-pj)",
            "country: 'UK' is not an ISO 3166-1 alpha-2 country code (got 'UK')",
            id="country-not-assigned",
        ),
        pytest.param(
            "agency_id: fr-pj",
            "agency_id: FR_PJ",
            "recipients[1] (FR_PJ)",
            "agency_id: String should match pattern '^[a-z0-9][a-z0-9-]*$' (got 'FR_PJ')",
            id="agency-id-pattern",
        ),
        pytest.param(
            "  EU:\n",
            "  eu:\n",
            "groups.eu",
            "group name: String should match pattern '^[A-Z][A-Z0-9_]*$' (got 'eu')",
            id="group-name-pattern",
        ),
        pytest.param(
            "    description: European Union\n",
            "",
            "groups.EU",
            "Input should be a valid dictionary or instance of GroupDefinition (got None)",
            id="group-without-description",
        ),
        pytest.param(
            "    caveats: [CT]",
            "    caveats: CT",
            "recipients[0] (de-bka)",
            "caveats: Input should be a valid tuple (got 'CT')",
            id="caveats-not-a-list",
        ),
    ],
)
def test_a_bad_policy_names_file_entry_and_problem(
    tmp_path: Path, old: str, new: str, entry: str, problem: str
) -> None:
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new, 1))

    with pytest.raises(PolicyError) as caught:
        load_policy(path)

    assert caught.value.file == str(path)
    assert (entry, problem) in caught.value.problems  # a misspelt key is also a missing one
    assert f"{path}: {entry}: {problem}" in str(caught.value).splitlines()


def test_kosovo_is_a_country_though_iso_has_not_assigned_its_code(tmp_path: Path) -> None:
    policy = load_policy(_write(tmp_path, GOOD.replace("country: FR", "country: XK")))

    assert policy.recipients[1].country == "XK"


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = GOOD.replace("clearance: SECRET", "clearance: HIGH").replace("country: US", "")
    path = _write(tmp_path, text)

    with pytest.raises(PolicyError) as caught:
        load_policy(path)

    assert [entry for entry, _ in caught.value.problems] == [
        "recipients[0] (de-bka)",
        "recipients[2] (us-fbi)",
    ]
    assert str(caught.value).count(f"{path}: ") == 2


def test_consistency_problems_are_all_reported_too(tmp_path: Path) -> None:
    text = GOOD.replace("agency_id: us-fbi", "agency_id: fr-pj").replace("[FIVE_EYES]", "[NATO]")

    with pytest.raises(PolicyError) as caught:
        load_policy(_write(tmp_path, text))

    assert caught.value.problems == (
        ("recipients[2] (fr-pj)", "agency id already used by recipients[1]"),
        (
            "recipients[2] (fr-pj)",
            "group 'NATO' is not defined under 'groups' (defined: EU, FIVE_EYES)",
        ),
    )


@pytest.mark.parametrize(
    ("text", "entry", "problem"),
    [
        pytest.param("", "(top level)", "valid dictionary or instance of Policy", id="empty"),
        pytest.param("- de-bka\n", "(top level)", "valid dictionary", id="a-list"),
        pytest.param("groups: {}\n", "(top level)", "recipients: required key missing", id="none"),
        pytest.param("\x00", "(file)", "not valid YAML", id="not-text"),
    ],
)
def test_a_file_that_is_not_a_policy_at_all(
    tmp_path: Path, text: str, entry: str, problem: str
) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(_write(tmp_path, text))

    [(found_entry, found_problem)] = caught.value.problems
    assert found_entry == entry
    assert problem in found_problem


def test_a_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    path = tmp_path / "absent.yml"

    with pytest.raises(PolicyError, match=re.escape(f"{path}: (file): No such file")):
        load_policy(path)


def test_a_policy_built_in_code_is_checked_the_same_way() -> None:
    profile = RecipientProfile(agency_id="de-bka", country="DE", clearance=Level.SECRET)

    with pytest.raises(ValidationError, match=r"recipients\[1\] \(de-bka\): agency id already"):
        Policy(recipients=(profile, profile))
