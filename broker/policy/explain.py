"""Every recipient's decision on one notice, for operators asking "who gets this, and why?".

It runs the same ``decide`` the distributor runs, so what it shows is what would happen; the
``notices explain`` command prints it.
"""

from __future__ import annotations

from datetime import datetime

from broker.models import NoticeEnvelope
from broker.policy.decision import Decision, decide
from broker.policy.profiles import Policy, RecipientProfile


def explain(
    notice: NoticeEnvelope, policy: Policy, now: datetime
) -> list[tuple[RecipientProfile, Decision]]:
    """One decision per profile, in the policy file's order."""
    return [(recipient, decide(notice, recipient, now, policy)) for recipient in policy.recipients]
