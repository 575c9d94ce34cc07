"""The sharing rules written out a second time, as plainly as possible, to test decide against.

Nothing here comes from broker.policy.decision or broker.policy.redaction: the rules are spelt
out again from the design (one ``if`` per rule, in the order of the rule table), with loops and
string comparisons instead of sets and regular expressions, so that a slip in the engine is
unlikely to be made again here in the same way. Only the data types are shared.
"""

from __future__ import annotations

import datetime as dt

import pycountry

from broker.models import NoticeEnvelope, NoticeType
from broker.policy.profiles import Policy, RecipientProfile

LEVELS = ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP_SECRET"]

UNREDACTABLE = {
    (NoticeType.WANTED_PERSON, "action_requested"),  # required enum without UNKNOWN
    (NoticeType.WANTED_PERSON, "subject.nationalities.[0]"),  # a country code has no blank
    (NoticeType.WANTED_PERSON, "subject.dates_of_birth.[0]"),  # a date span needs a year
    (NoticeType.FREEZE_ORDER, "subject"),  # its kind is a required enum
    (NoticeType.FREEZE_ORDER, "subject.kind"),
    (NoticeType.FREEZE_ORDER, "subject.names"),  # at least one name
    (NoticeType.FREEZE_ORDER, "measures.[0]"),  # an enum in a list
}
"""Which of the paths in ``strategies.MARKABLE_PATHS`` point at something that cannot be
redacted while the notice stays valid, whatever the body holds."""


def expected(
    notice: NoticeEnvelope, recipient: RecipientProfile, now: dt.datetime, policy: Policy
) -> tuple[str, list[str], list[str]]:
    """(outcome, rules, redacted paths) that the rules call for."""
    c = notice.classification
    me = recipient.agency_id
    my_names = [recipient.agency_id, recipient.country]
    for group in recipient.groups:
        my_names.append("group:" + group)

    def names_me(entries: list[str]) -> bool:
        return any(entry in my_names for entry in entries)

    embargoed = notice.not_before is not None and notice.not_before > now

    tlp = c.tlp.value
    if tlp == "CLEAR":
        tlp_rule, tlp_ok = "tlp-clear", True
    elif tlp == "GREEN":
        originator = None
        for profile in policy.recipients:
            if profile.agency_id == notice.originator.agency_id:
                originator = profile
        if originator is None:
            tlp_rule, tlp_ok = "tlp-green-as-amber", names_me(c.releasable_to)
        else:
            tlp_rule, tlp_ok = "tlp-green", False
            for community in recipient.tlp_communities:
                if community in originator.tlp_communities:
                    tlp_ok = True
    elif tlp == "AMBER":
        tlp_rule, tlp_ok = "tlp-amber", names_me(c.releasable_to)
    elif tlp == "AMBER_STRICT":
        tlp_rule, tlp_ok = "tlp-amber-strict", me in c.releasable_to
    else:
        tlp_rule, tlp_ok = "tlp-red", me in c.releasable_to
    list_restricts = tlp in ("CLEAR", "GREEN") and tlp_rule != "tlp-green-as-amber"

    to_redact: list[str] = []
    for marking in c.field_markings:
        too_low = LEVELS.index(recipient.clearance) < LEVELS.index(marking.level)
        lacks_caveat = False
        for caveat in marking.caveats:
            if caveat not in recipient.caveats:
                lacks_caveat = True
        if (too_low or lacks_caveat) and marking.path not in to_redact:
            to_redact.append(marking.path)

    denied: list[str] = []
    if notice.expires_at is not None and notice.expires_at <= now:
        denied.append("expired")
    if embargoed and notice.expires_at is not None and notice.not_before is not None:
        dead_on_release = notice.expires_at <= notice.not_before
        if dead_on_release:
            denied.append("embargo-outlasts-expiry")
    if LEVELS.index(recipient.clearance) < LEVELS.index(c.level):
        denied.append("clearance")
    for caveat in c.caveats:
        if caveat not in recipient.caveats:
            denied.append("caveat")
            break
    if names_me(c.not_releasable_to):
        denied.append("not-releasable")
    for entry in c.not_releasable_to:
        if not _known_entry(entry, policy):
            denied.append("unresolvable-exclusion")
            break
    if list_restricts and c.releasable_to and not names_me(c.releasable_to):
        denied.append("releasable-to")
    if not tlp_ok:
        denied.append(tlp_rule)
    if c.originator_controlled and me not in c.releasable_to:
        denied.append("originator-controlled")
    inside_another: list[str] = []
    for path in to_redact:
        for outer in to_redact:
            if path.startswith(outer + "."):
                inside_another.append(path)
    for path in to_redact:
        if path not in inside_another and not _found(notice, path):
            denied.append("unresolvable-field-marking")
            break
    for path in to_redact:
        found = path not in inside_another and _found(notice, path)
        if found and (notice.notice_type, path) in UNREDACTABLE:
            denied.append("unredactable-field-marking")
            break
    if denied:
        return "WITHHOLD", denied, []

    granted: list[str] = []
    if list_restricts and c.releasable_to:
        granted.append("releasable-to")
    granted.append(tlp_rule)
    if c.originator_controlled:
        granted.append("originator-controlled")
    if embargoed:
        granted.append("embargo")
    if to_redact:
        granted.append("field-marking")
    if embargoed:
        return "DEFER", granted, to_redact
    if to_redact:
        return "DELIVER_REDACTED", granted, to_redact
    return "DELIVER", granted, []


def _known_entry(entry: str, policy: Policy) -> bool:
    """A country's code, an agency id, or a group this policy defines."""
    if entry.startswith("group:"):
        return entry[len("group:") :] in policy.groups
    if len(entry) == 2 and entry.isascii() and entry.isalpha() and entry.isupper():
        return entry == "XK" or pycountry.countries.get(alpha_2=entry) is not None
    if entry == "" or entry[0] == "-":
        return False
    return all(char in "abcdefghijklmnopqrstuvwxyz0123456789-" for char in entry)


def _found(notice: NoticeEnvelope, path: str) -> bool:
    """Whether ``path`` leads to something in the body, read from its plain-dict form."""
    value: object = notice.body.model_dump()
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.startswith("[") and part.endswith("]"):
            digits = part[1:-1]
            if not digits.isdigit() or not digits.isascii() or (digits != "0" and digits[0] == "0"):
                return False
            if int(digits) >= len(value):
                return False
            value = value[int(digits)]
        else:
            return False
    return True
