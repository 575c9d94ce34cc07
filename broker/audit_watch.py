"""Re-verifying the audit trail on a timer, so that a broken hash chain raises an alert the
moment it is there rather than when an auditor next runs ``notices audit verify``.

Each run reads the whole trail (``broker.audit_trail.verify_topic``): every chain is checked
from its first record, as an auditor would, whatever instance wrote it.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka.errors import KafkaError

from broker.audit_trail import verify_topic
from broker.errors import TopicMissing
from broker.metrics import AuditMetrics
from broker.settings import Settings

log = logging.getLogger(__name__)


class AuditWatch:
    def __init__(self, settings: Settings, metrics: AuditMetrics) -> None:
        self.settings = settings
        self.metrics = metrics

    async def run(self) -> None:
        """Verify every ``settings.audit_verify_seconds`` until cancelled.

        A trail that cannot be read is not a fault: it is logged, and the verification's age
        (``audit_last_verified_timestamp_seconds``) tells that it is not being checked.
        """
        while True:
            try:
                report = await verify_topic(self.settings)
            except (KafkaError, TopicMissing, TimeoutError) as exc:
                log.warning("could not read the audit trail to verify it (%r)", exc)
            else:
                self.metrics.verified(report)
                for fault in report.faults:
                    log.error("audit trail fault: %s", fault)
            await asyncio.sleep(self.settings.audit_verify_seconds)
