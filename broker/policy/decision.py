"""Whether one recipient may have one notice now, and every rule that says so.

``decide`` is pure and deterministic: the same notice, profile, instant and policy always give
the same decision, so any delivery can be replayed and audited later. It reads the notice's
classification only, never its body's meaning; where markings are missing or contradict each
other it takes the most restrictive reading.

Every rule is checked, none short-circuits, so a withheld notice names all its reasons. In a
WITHHOLD, ``rules`` lists every rule that denied; otherwise it lists every rule that granted or
shaped the delivery. Either way in the order of this table:

=========================== ================ ================================================
rule id                     effect           fires when
=========================== ================ ================================================
expired                     WITHHOLD         expires_at <= now
embargo-outlasts-expiry     WITHHOLD         under embargo, and expires_at <= not_before: it
                                             would be dead on release
clearance                   WITHHOLD         the recipient's clearance < the notice's level
caveat                      WITHHOLD         the notice needs a caveat the recipient lacks
not-releasable              WITHHOLD         not_releasable_to names the recipient by any
                                             route (agency id, country or group); this beats
                                             every releasable_to match
unresolvable-exclusion      WITHHOLD         a not_releasable_to entry is malformed, is a
                                             country code no country has (UK), or names a
                                             group the policy does not define: whom it
                                             excludes is unknown, so it excludes everyone
releasable-to               WITHHOLD         TLP:CLEAR or GREEN, releasable_to is not empty,
                                             and it names the recipient by no route: a
                                             list still restricts a label that would not
                            grant            ... names it by some route
tlp-clear                   grant            TLP:CLEAR: everyone
tlp-green                   WITHHOLD         TLP:GREEN, and the recipient shares no TLP
                                             community with the originator's profile
                            grant            ... shares one
tlp-green-as-amber          WITHHOLD / grant TLP:GREEN from an originator the policy does not
                                             know, so there is no community to share: read
                                             as TLP:AMBER
tlp-amber                   WITHHOLD         TLP:AMBER, and releasable_to names the recipient
                                             by no route
                            grant            ... names it by some route
tlp-amber-strict            WITHHOLD / grant TLP:AMBER+STRICT: releasable_to must hold the
                                             recipient's agency id
tlp-red                     WITHHOLD / grant TLP:RED: releasable_to must hold the recipient's
                                             agency id
originator-controlled       WITHHOLD         ORCON, and releasable_to does not hold the
                                             recipient's agency id (a country or group never
                                             counts)
                            grant            ORCON, and it does
unresolvable-field-marking  WITHHOLD         a field marking the recipient is not cleared for
                                             has a path that leads nowhere in the body: a
                                             misspelt or stale path may hide just what it
                                             was meant to protect
unredactable-field-marking  WITHHOLD         ... has a path to something with no redacted
                                             form (see ``broker.policy.redaction``); for both
                                             rules a path inside another path being redacted
                                             does not count, as that one withholds it
embargo                     DEFER            not_before > now; ``release_at`` is not_before
field-marking               DELIVER_REDACTED the recipient's clearance is below a field
                                             marking's level, or it lacks one of the
                                             marking's caveats; ``redacted_fields`` lists the
                                             paths
=========================== ================ ================================================

Exactly one tlp-* rule applies to any notice. A field marking at or below the notice's level
only matters through its caveats: whoever is cleared for the notice is cleared for it.

A DEFER also lists the field-marking paths as they stand now; the distributor decides again at
``release_at``, with the profile of that day. Decisions judge one version of a notice by its
own markings: that a CANCEL or UPDATE also reaches everyone who had an earlier version is the
distributor's rule, on top of this one.

The originator is decided for like any other recipient: a special case would be a path around
the markings for whoever can write the originator field, and an originator that wants its own
copy names itself in releasable_to (or shares its own GREEN community).
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict

from broker.models import Classification, Level, NoticeEnvelope, Tlp
from broker.policy.profiles import (
    AGENCY_ID_PATTERN,
    GROUP_NAME_PATTERN,
    Policy,
    RecipientProfile,
    is_country,
)
from broker.policy.redaction import PathProblem, outermost, path_problem

_RANK = {level: rank for rank, level in enumerate(Level)}
_AGENCY = re.compile(AGENCY_ID_PATTERN)
_GROUP = re.compile("group:" + GROUP_NAME_PATTERN.removeprefix("^"))


class Outcome(StrEnum):
    DELIVER = "DELIVER"
    DELIVER_REDACTED = "DELIVER_REDACTED"
    DEFER = "DEFER"
    WITHHOLD = "WITHHOLD"


class Rule(StrEnum):
    """Stable rule ids, in the order decisions list them (the module's table)."""

    EXPIRED = "expired"
    EMBARGO_OUTLASTS_EXPIRY = "embargo-outlasts-expiry"
    CLEARANCE = "clearance"
    CAVEAT = "caveat"
    NOT_RELEASABLE = "not-releasable"
    UNRESOLVABLE_EXCLUSION = "unresolvable-exclusion"
    RELEASABLE_TO = "releasable-to"
    TLP_CLEAR = "tlp-clear"
    TLP_GREEN = "tlp-green"
    TLP_GREEN_AS_AMBER = "tlp-green-as-amber"
    TLP_AMBER = "tlp-amber"
    TLP_AMBER_STRICT = "tlp-amber-strict"
    TLP_RED = "tlp-red"
    ORIGINATOR_CONTROLLED = "originator-controlled"
    UNRESOLVABLE_FIELD_MARKING = "unresolvable-field-marking"
    UNREDACTABLE_FIELD_MARKING = "unredactable-field-marking"
    EMBARGO = "embargo"
    FIELD_MARKING = "field-marking"


class Decision(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    outcome: Outcome
    rules: tuple[Rule, ...]
    """WITHHOLD: every rule that denied; otherwise every rule that granted or shaped it."""
    redacted_fields: tuple[str, ...] = ()
    """Body paths to redact (see ``redaction.redact``); set for DELIVER_REDACTED and DEFER."""
    release_at: AwareDatetime | None = None
    """When a DEFER ends: the notice's not_before."""


def decide(
    notice: NoticeEnvelope, recipient: RecipientProfile, now: datetime, policy: Policy
) -> Decision:
    """The decision for ``recipient`` at ``now``; raises ValueError for a naive ``now``.

    A naive ``now`` would only fail when a notice happens to carry a time limit, so it is
    refused up front rather than on the first such notice.
    """
    if now.tzinfo is None:
        raise ValueError("decide needs a timezone-aware 'now'")
    marking = notice.classification
    embargoed = notice.not_before is not None and notice.not_before > now
    expired = notice.expires_at is not None and notice.expires_at <= now
    dead_on_release = (
        embargoed
        and notice.expires_at is not None
        and notice.not_before is not None
        and notice.expires_at <= notice.not_before
    )
    tlp_rule, tlp_allows = _tlp(notice, recipient, policy)
    # TLP:AMBER, AMBER+STRICT and RED read releasable_to themselves: releasable-to would
    # only repeat them.
    restricted = tlp_rule in (Rule.TLP_CLEAR, Rule.TLP_GREEN) and bool(marking.releasable_to)
    redacted = _uncleared_paths(marking, recipient)
    problems = {path_problem(notice.body, path) for path in outermost(redacted)}
    denials = (
        (Rule.EXPIRED, expired),
        (Rule.EMBARGO_OUTLASTS_EXPIRY, dead_on_release),
        (Rule.CLEARANCE, _RANK[recipient.clearance] < _RANK[marking.level]),
        (Rule.CAVEAT, not set(marking.caveats) <= set(recipient.caveats)),
        (Rule.NOT_RELEASABLE, _names(marking.not_releasable_to, recipient)),
        (
            Rule.UNRESOLVABLE_EXCLUSION,
            not all(_resolvable(entry, policy) for entry in marking.not_releasable_to),
        ),
        (Rule.RELEASABLE_TO, restricted and not _names(marking.releasable_to, recipient)),
        (tlp_rule, not tlp_allows),
        (
            Rule.ORIGINATOR_CONTROLLED,
            marking.originator_controlled and recipient.agency_id not in marking.releasable_to,
        ),
        (Rule.UNRESOLVABLE_FIELD_MARKING, PathProblem.UNRESOLVABLE in problems),
        (Rule.UNREDACTABLE_FIELD_MARKING, PathProblem.UNREDACTABLE in problems),
    )
    denied = tuple(rule for rule, fires in denials if fires)
    if denied:
        return Decision(outcome=Outcome.WITHHOLD, rules=denied)
    grants = (
        (Rule.RELEASABLE_TO, restricted),
        (tlp_rule, True),
        (Rule.ORIGINATOR_CONTROLLED, marking.originator_controlled),
        (Rule.EMBARGO, embargoed),
        (Rule.FIELD_MARKING, bool(redacted)),
    )
    if embargoed:
        outcome = Outcome.DEFER
    elif redacted:
        outcome = Outcome.DELIVER_REDACTED
    else:
        outcome = Outcome.DELIVER
    return Decision(
        outcome=outcome,
        rules=tuple(rule for rule, fires in grants if fires),
        redacted_fields=redacted,
        release_at=notice.not_before if embargoed else None,
    )


def _tlp(notice: NoticeEnvelope, recipient: RecipientProfile, policy: Policy) -> tuple[Rule, bool]:
    """The one TLP rule that applies to ``notice``, and whether it lets ``recipient`` have it."""
    releasable_to = notice.classification.releasable_to
    named = recipient.agency_id in releasable_to
    match notice.classification.tlp:
        case Tlp.CLEAR:
            return Rule.TLP_CLEAR, True
        case Tlp.GREEN:
            originator = policy.profile(notice.originator.agency_id)
            if originator is None:
                return Rule.TLP_GREEN_AS_AMBER, _names(releasable_to, recipient)
            shared = set(originator.tlp_communities) & set(recipient.tlp_communities)
            return Rule.TLP_GREEN, bool(shared)
        case Tlp.AMBER:
            return Rule.TLP_AMBER, _names(releasable_to, recipient)
        case Tlp.AMBER_STRICT:
            return Rule.TLP_AMBER_STRICT, named
        case Tlp.RED:
            return Rule.TLP_RED, named


def _names(entries: list[str], recipient: RecipientProfile) -> bool:
    """Whether ``entries`` name the recipient by any route: agency id, country or group."""
    routes = {recipient.agency_id, recipient.country, *(f"group:{g}" for g in recipient.groups)}
    return not routes.isdisjoint(entries)


def _resolvable(entry: str, policy: Policy) -> bool:
    """Whether we can tell which recipients a not_releasable_to entry stands for."""
    if _GROUP.fullmatch(entry):
        return entry.removeprefix("group:") in policy.groups
    return is_country(entry) or bool(_AGENCY.fullmatch(entry))


def _uncleared_paths(marking: Classification, recipient: RecipientProfile) -> tuple[str, ...]:
    """Paths of the field markings the recipient is not cleared for, each once, in order."""
    return tuple(
        dict.fromkeys(
            field.path
            for field in marking.field_markings
            if _RANK[recipient.clearance] < _RANK[field.level]
            or not set(field.caveats) <= set(recipient.caveats)
        )
    )
