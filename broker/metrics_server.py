"""Each service's /metrics and /ready over HTTP, and the wiring that runs a service with them.

The endpoint is a small asyncio server rather than prometheus_client's threaded one: a scrape
then runs on the service's own event loop, between two of its steps, so the collectors that
read a service's counters at scrape time (``broker.metrics``) never see them half-updated.

- ``GET /metrics``: the registry in Prometheus' text format 0.0.4, which every Prometheus 2
  and 3 reads (the client's newer default names a version 2.x does not know).
- ``GET /ready``: 200 once the service consumes (its consumer has partitions), else 503; for
  an orchestrator's readiness probe and docker-compose's health check.

``serve_ingest``, ``serve_distributor`` and ``serve_subscriber`` run a service with its
metrics, its offsets monitor (``broker.lag``) and, when ``settings.metrics_port`` is set, the
endpoint; they are what the ``notices`` commands run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry, generate_latest

from broker.audit_watch import AuditWatch
from broker.distributor import DistributorService
from broker.embargo import EmbargoReleaser
from broker.ingest import IngestService
from broker.lag import GroupWatch, OffsetsMonitor
from broker.metrics import (
    AuditMetrics,
    DistributorMetrics,
    IngestMetrics,
    OffsetMetrics,
    SubscriberMetrics,
    TransactionMetrics,
)
from broker.settings import Settings
from consumers.subscriber import Subscriber

log = logging.getLogger(__name__)

_REQUEST_TIMEOUT = 10.0
_MAX_HEADER_LINES = 100


class MetricsServer:
    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        ready: Callable[[], bool],
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.registry = registry
        self.ready = ready
        self.host = host
        self._port = port
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The port listened on: the one chosen by the system when 0 was asked for."""
        if self._server is None:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self._port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            method, path = await asyncio.wait_for(_read_request(reader), _REQUEST_TIMEOUT)
            status, content_type, body = self._respond(method, path)
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            )
            if method != "HEAD":
                writer.write(body)
            await writer.drain()
        except (TimeoutError, ConnectionError, ValueError, asyncio.IncompleteReadError):
            pass  # a client that hung up or spoke nonsense gets nothing
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def _respond(self, method: str, path: str) -> tuple[str, str, bytes]:
        if method not in {"GET", "HEAD"}:
            return "405 Method Not Allowed", "text/plain", b"GET only\n"
        route = path.split("?", 1)[0]
        if route == "/metrics":
            return "200 OK", CONTENT_TYPE_PLAIN_0_0_4, generate_latest(self.registry)
        if route == "/ready":
            if self.ready():
                return "200 OK", "text/plain", b"ready\n"
            return "503 Service Unavailable", "text/plain", b"not ready\n"
        return "404 Not Found", "text/plain", b"/metrics or /ready\n"


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str]:
    """The method and path of an HTTP/1.x request; its headers are read and ignored."""
    request_line = (await reader.readline()).decode("latin-1").split()
    if len(request_line) != 3:
        raise ValueError("not an HTTP request")
    for _ in range(_MAX_HEADER_LINES):
        if (await reader.readline()).strip() == b"":
            break
    return request_line[0], request_line[1]


async def run_observed(
    service: Awaitable[None],
    settings: Settings,
    registry: CollectorRegistry,
    *,
    ready: Callable[[], bool],
    monitors: Sequence[Coroutine[Any, Any, None]] = (),
) -> None:
    """Run ``service`` with its monitors and, if a metrics port is set, its endpoint, until
    one of them ends or fails, or all are cancelled; the first to end stops the others, so
    no service runs on unobserved and no monitor outlives its service."""
    server = None
    if settings.metrics_port is not None:
        server = MetricsServer(
            registry, ready=ready, host=settings.metrics_host, port=settings.metrics_port
        )
        await server.start()
        log.info("metrics on http://%s:%d/metrics", settings.metrics_host, server.port)
    tasks = [asyncio.ensure_future(job) for job in (service, *monitors)]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if server is not None:
            await server.stop()


async def serve_ingest(service: IngestService, registry: CollectorRegistry | None = None) -> None:
    """The ingest service with its metrics, its group's lag and the DLQ depth."""
    registry = registry or CollectorRegistry()
    settings = service.settings
    IngestMetrics(registry).watch(service)
    TransactionMetrics(registry).watch(service.processor, dlq_topic=service.topics.dlq)
    monitor = OffsetsMonitor(
        settings,
        OffsetMetrics(registry),
        groups=[GroupWatch(settings.ingest_group_id, service.topics.raw_pattern)],
        dlq=True,
    )
    await run_observed(
        service.run(),
        settings,
        registry,
        ready=lambda: bool(service.processor.assigned),
        monitors=[monitor.run()],
    )


async def serve_distributor(
    service: DistributorService,
    releaser: EmbargoReleaser,
    registry: CollectorRegistry | None = None,
) -> None:
    """The distributor and its embargo releaser, with their metrics, the group's lag and the
    periodic audit verification."""
    registry = registry or CollectorRegistry()
    settings = service.settings
    DistributorMetrics(registry).watch(service, releaser)
    TransactionMetrics(registry).watch(service.processor, dlq_topic=service.topics.dlq)
    group = service.processor.group_id
    monitors = [
        releaser.run(),
        OffsetsMonitor(
            settings,
            OffsetMetrics(registry),
            groups=[GroupWatch(group, service.topics.distributor_pattern)],
        ).run(),
    ]
    if settings.audit_verify_seconds > 0:
        monitors.append(AuditWatch(settings, AuditMetrics(registry)).run())
    await run_observed(
        service.run(),
        settings,
        registry,
        ready=lambda: bool(service.processor.assigned),
        monitors=monitors,
    )


async def serve_subscriber(
    subscriber: Subscriber, *, agency: str, registry: CollectorRegistry | None = None
) -> None:
    """A subscriber with its metrics (labelled ``agency``) and its group's lag.

    The subscriber's ``delivered`` callback is taken for the latency metrics.
    """
    registry = registry or CollectorRegistry()
    metrics = SubscriberMetrics(registry, agency=agency)
    metrics.watch(subscriber)
    subscriber.delivered = metrics.delivered
    monitor = OffsetsMonitor(
        subscriber.settings,
        OffsetMetrics(registry),
        groups=[GroupWatch.of_topics(subscriber.group_id, subscriber.topics)],
    )
    await run_observed(
        subscriber.run(),
        subscriber.settings,
        registry,
        ready=lambda: bool(subscriber.assigned),
        monitors=[monitor.run()],
    )
