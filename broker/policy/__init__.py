"""The sharing-classification policy: recipient profiles as data, and the pure decision on them.

No Kafka here and no I/O beyond reading the policy file: the distributor wraps these functions,
and tests and the ``notices explain`` command call them directly.
"""

from broker.policy.decision import Decision, Outcome, Rule, decide
from broker.policy.explain import explain
from broker.policy.profiles import GroupDefinition, Policy, RecipientProfile, load_policy
from broker.policy.redaction import REDACTED, PathProblem, path_problem, redact

__all__ = [
    "REDACTED",
    "Decision",
    "GroupDefinition",
    "Outcome",
    "PathProblem",
    "Policy",
    "RecipientProfile",
    "Rule",
    "decide",
    "explain",
    "load_policy",
    "path_problem",
    "redact",
]
