"""Re-verifying the audit trail on a timer, so that a broken hash chain raises an alert the
moment it is there rather than when an auditor next runs ``notices audit verify``.

Each run reads the whole trail (``broker.audit_trail.verify_topic``): every chain is checked
from its first record, as an auditor would, whatever instance wrote it. That is CPU in
proportion to the trail, so it runs in a child process (``broker.audit_process``), away from
the service's event loop.
"""

from __future__ import annotations

import asyncio
import logging

from broker.audit_process import verify_in_child
from broker.errors import AuditVerifyFailed
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
                report = await verify_in_child(self.settings)
            except AuditVerifyFailed as exc:
                log.warning("%s", exc)
            else:
                self.metrics.verified(report)
                for fault in report.faults:
                    log.error("audit trail fault: %s", fault)
            await asyncio.sleep(self.settings.audit_verify_seconds)
