"""The third-party rule: what an agency received under originator control it does not pass on.

An agency that re-publishes a notice it received (to its own raw topic, to a partner) goes
through this check first; the library refuses an originator-controlled notice outright, since
only its originator may release it further.
"""

from __future__ import annotations

from broker.errors import OriginatorControlled
from broker.models import NoticeEnvelope


def ensure_republishable(notice: NoticeEnvelope) -> NoticeEnvelope:
    """Return ``notice`` if it may be passed on; raise OriginatorControlled if not."""
    if notice.classification.originator_controlled:
        raise OriginatorControlled(
            notice_id=notice.notice_id, originator=notice.originator.agency_id
        )
    return notice
