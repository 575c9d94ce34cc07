"""The brokers a chaos run stands on, behind one small interface the fault rows drive."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Protocol

from broker.settings import Settings
from ops.local_kafka import LocalKafka, start_kafka
from ops.processes import POLL_SECONDS


class Brokers(Protocol):
    name: str

    @property
    def nodes(self) -> int: ...

    def hub(self) -> Settings:
        """The hub's login (a super user): the harness's own clients and the services'."""
        ...

    def kill(self, node: int) -> None:
        """SIGKILL broker ``node`` and wait until it is gone."""
        ...

    def restart(self, node: int) -> None:
        """Start broker ``node`` again on its storage and ports; return once it answers."""
        ...

    def stop(self) -> None: ...


class SingleBroker:
    """The single-node secured broker the tests use, in a data folder of the run's own."""

    name = "single node"

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.kafka: LocalKafka = start_kafka(data_dir)

    @property
    def nodes(self) -> int:
        return 1

    def hub(self) -> Settings:
        return self.kafka.client_settings()

    def kill(self, node: int) -> None:
        os.kill(self.kafka.pid, signal.SIGKILL)
        while self.kafka.is_running():
            time.sleep(POLL_SECONDS)

    def restart(self, node: int) -> None:
        """On the same port: the clients' bootstrap list and metadata still name it."""
        self.kafka = start_kafka(self.data_dir, port=self.kafka.port)

    def stop(self) -> None:
        self.kafka.stop()
