"""The sharing policy as data: who the recipients are and which groups they belong to.

A distributor decides every delivery from this file, so a mistake in it either leaks notices or
starves agencies. It is therefore validated whole at load time (pydantic, frozen, unknown keys
refused) and a bad file stops the distributor with every problem named by file, entry and
cause, instead of surfacing later as odd deliveries.

Group membership is declared on the profiles only (``groups: [EU, SCHENGEN]``): one place to
change when an agency joins or leaves. The ``groups`` section defines which names exist, so a
misspelt group on a profile is caught here rather than silently matching nothing, and so a
notice that excludes a group this policy has never heard of can be recognised (see
``broker.policy.decision``). A group may be defined with no members for that reason alone.

The file is YAML; JSON is YAML too, so a ``.json`` policy loads the same way.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from pathlib import Path
from typing import Annotated, Any

import pycountry
import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails

from broker.errors import PolicyError
from broker.models import CountryCode, Level

AGENCY_ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
"""Same as ``models.Originator.agency_id``, so an originator and a recipient compare equal."""

GROUP_NAME_PATTERN = r"^[A-Z][A-Z0-9_]*$"
"""Upper case, so ``group:EU`` can never be mistaken for an agency id."""

_ALPHA_2 = re.compile(r"[A-Z]{2}")
_USER_ASSIGNED_COUNTRIES = frozenset({"XK"})
"""Codes outside ISO 3166-1 that agencies use all the same: Kosovo, as the EU writes it."""


def is_country(code: str) -> bool:
    """Whether ``code`` is a country's alpha-2 code, not merely two capitals (``UK`` is not).

    A recipient under such a code would silently escape every not_releasable_to naming its
    real country, and a notice excluding one would exclude nobody.
    """
    if not _ALPHA_2.fullmatch(code):  # pycountry would take "fr" for France
        return False
    return code in _USER_ASSIGNED_COUNTRIES or pycountry.countries.get(alpha_2=code) is not None


def _assigned_country(code: str) -> str:
    if not is_country(code):
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return code


AgencyId = Annotated[str, Field(pattern=AGENCY_ID_PATTERN)]
Country = Annotated[CountryCode, AfterValidator(_assigned_country)]
GroupName = Annotated[str, Field(pattern=GROUP_NAME_PATTERN)]
Label = Annotated[str, Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RecipientProfile(_Model):
    """One agency that may receive notices, and everything the decision reads about it."""

    agency_id: AgencyId
    country: Country
    """ISO 3166-1 alpha-2; an international body gives its seat, so a country exclusion holds."""
    clearance: Level
    groups: tuple[GroupName, ...] = ()
    caveats: tuple[Label, ...] = ()
    """Compartments held; a notice or field needing one not listed here is not for it."""
    tlp_communities: tuple[Label, ...] = ()
    """TLP:GREEN communities; a GREEN notice reaches those sharing one with its originator."""


class GroupDefinition(_Model):
    description: Label


class _Inconsistent(ValueError):
    """Entries that are valid alone but not together; carries them so the loader can name each."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{entry}: {problem}" for entry, problem in problems))


class Policy(_Model):
    groups: dict[GroupName, GroupDefinition] = {}
    recipients: tuple[RecipientProfile, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        problems: list[tuple[str, str]] = []
        first_seen: dict[str, int] = {}
        for index, recipient in enumerate(self.recipients):
            entry = f"recipients[{index}] ({recipient.agency_id})"
            earlier = first_seen.setdefault(recipient.agency_id, index)
            if earlier != index:
                problems.append((entry, f"agency id already used by recipients[{earlier}]"))
            problems.extend(
                (entry, f"group {group!r} is not defined under 'groups' ({self._defined()})")
                for group in recipient.groups
                if group not in self.groups
            )
        if problems:
            raise _Inconsistent(problems)
        return self

    def _defined(self) -> str:
        return f"defined: {', '.join(self.groups)}" if self.groups else "none are defined"

    def profile(self, agency_id: str) -> RecipientProfile | None:
        return next((r for r in self.recipients if r.agency_id == agency_id), None)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader refusing a key given twice in one mapping.

    PyYAML silently keeps the last one, and a second ``clearance:`` under one agency must not
    quietly win over the first.
    """


def _mapping_without_duplicates(
    loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[Any, Any]:
    seen: set[Hashable] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, Hashable):
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


def load_policy(path: str | Path) -> Policy:
    """Read and validate the policy at ``path``; raise PolicyError listing every problem found."""
    file = str(path)
    try:
        raw = yaml.load(Path(path).read_bytes(), Loader=_StrictLoader)
    except OSError as err:
        raise PolicyError(file=file, problems=(("(file)", err.strerror or str(err)),)) from err
    except yaml.YAMLError as err:
        raise PolicyError(file=file, problems=(_yaml_problem(err),)) from err
    try:
        return Policy.model_validate(raw)
    except ValidationError as err:
        problems: list[tuple[str, str]] = []
        for error in err.errors():
            cause = error.get("ctx", {}).get("error")
            if isinstance(cause, _Inconsistent):
                problems.extend(cause.problems)
            else:
                problems.append(_readable(error, raw))
        raise PolicyError(file=file, problems=tuple(problems)) from err


def _yaml_problem(err: yaml.YAMLError) -> tuple[str, str]:
    if isinstance(err, yaml.MarkedYAMLError) and err.problem_mark is not None:
        mark = err.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}"
        return where, f"not valid YAML: {err.problem}"
    return "(file)", f"not valid YAML: {err}"


def _readable(error: ErrorDetails, raw: object) -> tuple[str, str]:
    """Turn pydantic's location tuple into the entry an operator looks for, and the rest."""
    loc = error["loc"]
    if len(loc) >= 2 and loc[0] == "recipients" and isinstance(loc[1], int):
        entry = f"recipients[{loc[1]}]"
        agency_id = _agency_id_at(raw, loc[1])
        if agency_id is not None:
            entry += f" ({agency_id})"
        rest = loc[2:]
    elif len(loc) >= 2 and loc[0] == "groups":
        entry, rest = f"groups.{loc[1]}", loc[2:]
    else:
        entry, rest = "(top level)", loc
    field = "".join(
        f"[{part}]" if isinstance(part, int) else part if i == 0 else f".{part}"
        for i, part in enumerate(rest)
    ).replace("[key]", "group name")
    if error["type"] == "missing":
        problem = "required key missing"
    elif error["type"] == "extra_forbidden":
        problem = "unknown key"
    else:
        shown = repr(error["input"])
        message = error["msg"].removeprefix("Value error, ")
        problem = f"{message} (got {shown if len(shown) <= 60 else shown[:57] + '...'})"
    return entry, f"{field}: {problem}" if field else problem


def _agency_id_at(raw: object, index: int) -> str | None:
    recipients = raw.get("recipients") if isinstance(raw, dict) else None
    if isinstance(recipients, list) and 0 <= index < len(recipients):
        item = recipients[index]
        if isinstance(item, dict) and isinstance(item.get("agency_id"), str):
            return str(item["agency_id"])
    return None
