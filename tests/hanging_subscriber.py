"""A subscriber process whose sink hangs on its Nth notice, for the kill-before-commit test.

Run as ``python -m tests.hanging_subscriber OUT GROUP N`` with the hub's settings in the
environment. Each notice's id and version is written to OUT before the sink hangs, so the
test knows what reached the sink before the process was killed.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from broker.models import NoticeEnvelope
from broker.settings import Settings
from broker.topics import TopicNames
from consumers.subscriber import Subscriber
from tests.kafka_helpers import SERDE


async def main(out: Path, group_id: str, hang_at: int) -> None:
    seen = 0

    async def sink(notice: NoticeEnvelope) -> None:
        nonlocal seen
        seen += 1
        with out.open("a") as file:
            file.write(f"{notice.notice_id} {notice.version}\n")
        if seen >= hang_at:
            await asyncio.sleep(3600)

    settings = Settings()
    subscriber = Subscriber(
        settings,
        topics=TopicNames(settings.topic_prefix).all_notices,
        group_id=group_id,
        sink=sink,
        serde=SERDE,
    )
    await subscriber.run()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])))
