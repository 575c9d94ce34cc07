"""Defence in depth on the agency's side: check each delivered notice against our own profile.

The hub's distributor should only ever send an agency what its profile allows. The consumer
library does not take that on trust: it decides again, with the same pure function and the
agency's own copy of its profile, and refuses whatever it should not have received, so a
fault in the hub (a bad policy push, a bug, a misrouted topic) shows up as refusals counted
on the receiving side rather than as a leak. A redacted delivery passes only if the fields
its profile may not see are already redacted in what arrived.

Notices that have expired are dropped rather than refused: they were valid when sent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from broker.models import NoticeEnvelope
from broker.policy.decision import Outcome, decide
from broker.policy.profiles import Policy, RecipientProfile
from broker.policy.redaction import redact


class Verdict(StrEnum):
    ACCEPT = "accept"
    EXPIRED = "expired"
    REFUSE = "refuse"


@dataclass(frozen=True)
class Check:
    verdict: Verdict
    rules: tuple[str, ...]


class DeliveryGuard:
    """One agency's re-check; ``policy`` is its copy of the hub's (for groups and communities)."""

    def __init__(self, policy: Policy, agency_id: str) -> None:
        profile = policy.profile(agency_id)
        if profile is None:
            raise ValueError(f"agency {agency_id!r} has no profile in the policy")
        self.policy = policy
        self.profile: RecipientProfile = profile

    def check(self, notice: NoticeEnvelope, now: dt.datetime) -> Check:
        if notice.expires_at is not None and notice.expires_at <= now:
            return Check(Verdict.EXPIRED, ("expired",))
        decision = decide(notice, self.profile, now, self.policy)
        rules = tuple(rule.value for rule in decision.rules)
        if decision.outcome is Outcome.DELIVER:
            return Check(Verdict.ACCEPT, rules)
        if (
            decision.outcome is Outcome.DELIVER_REDACTED
            and redact(notice, decision.redacted_fields) == notice
        ):
            return Check(Verdict.ACCEPT, rules)
        if decision.outcome is Outcome.DELIVER_REDACTED:
            rules = (*rules, "not-redacted")
        return Check(Verdict.REFUSE, rules)
