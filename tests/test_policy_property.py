"""decide against the plainly written oracle, over many random notices and recipients.

Each example is one body under three random sets of markings, times a policy of five to seven
random profiles: at least 700 x 3 x 5 = 10,500 (notice, recipient) pairs per run. Drawing the
expensive body once per example and the cheap markings and profiles many times keeps the run
to a few seconds.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from broker.models import NoticeEnvelope
from broker.policy.decision import Decision, Outcome, decide
from broker.policy.profiles import Policy, RecipientProfile
from broker.policy.redaction import REDACTED, redact
from ops.chaos.oracle import expected
from tests.strategies import notices, policies, remarked

NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)

marked_notices = notices().flatmap(lambda n: st.lists(remarked(n, NOW), min_size=3, max_size=3))


@settings(max_examples=700, deadline=None)
@given(marked_notices, policies(min_recipients=5))
def test_decisions_are_what_the_oracle_calls_for(
    variants: list[NoticeEnvelope], policy: Policy
) -> None:
    for notice in variants:
        for recipient in policy.recipients:
            decision = decide(notice, recipient, NOW, policy)
            outcome, rules, redacted = expected(notice, recipient, NOW, policy)
            # Nothing reaches a recipient the oracle turns away, and nobody the oracle admits
            # is turned away: the outcome, its reasons and what is cut must all agree.
            assert decision.outcome == outcome, recipient.agency_id
            assert list(decision.rules) == rules, recipient.agency_id
            assert list(decision.redacted_fields) == redacted, recipient.agency_id
            assert decision.release_at == (notice.not_before if outcome == "DEFER" else None)
            if decision.outcome is Outcome.DELIVER_REDACTED:
                _check_redacted_copy(notice, recipient, decision, policy)


def _check_redacted_copy(
    notice: NoticeEnvelope, recipient: RecipientProfile, decision: Decision, policy: Policy
) -> None:
    copy = redact(notice, decision.redacted_fields)
    assert NoticeEnvelope.model_validate(copy.model_dump()) == copy
    dumped = copy.body.model_dump()
    paths = decision.redacted_fields
    for path in paths:
        if not any(path.startswith(f"{outer}.") for outer in paths):  # inner ones went with it
            assert _blank(_at(dumped, path)), path
    # The recipient's consumer, deciding again on the copy (defence in depth), must come to the
    # same decision, and redacting what is already redacted must change nothing.
    assert decide(copy, recipient, NOW, policy) == decision
    assert redact(copy, decision.redacted_fields) == copy


def _at(value: object, path: str) -> object:
    for part in path.split("."):
        if isinstance(value, list):
            value = value[int(part.strip("[]"))]
        else:
            assert isinstance(value, dict)
            value = value[part]
    return value


def _blank(value: object) -> bool:
    """Whether ``value`` carries nothing of the original: empty, default, or [REDACTED]."""
    if isinstance(value, dict):
        return all(_blank(item) for item in value.values())
    return value in (None, [], REDACTED, "UNKNOWN", False)
