"""The /metrics and /ready endpoint, and running a service beside its monitors, without Kafka."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry, Counter

from broker.metrics_server import MetricsServer, run_observed
from broker.settings import Settings


async def http(port: int, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"{method} {path} HTTP/1.1\r\nHost: test\r\nAccept: */*\r\n\r\n".encode())
    await writer.drain()
    response = await reader.read()
    writer.close()
    await writer.wait_closed()
    head, _, body = response.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), headers, body


async def test_metrics_are_served_and_readiness_follows_the_service() -> None:
    registry = CollectorRegistry()
    Counter("notices_things_total", "Things.", registry=registry).inc(3)
    ready = False
    server = MetricsServer(registry, ready=lambda: ready)
    await server.start()
    try:
        status, headers, body = await http(server.port, "GET", "/metrics")
        assert status == 200
        assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
        assert b"notices_things_total 3.0" in body
        assert (await http(server.port, "GET", "/ready"))[0] == 503
        ready = True
        assert (await http(server.port, "GET", "/ready?verbose=1"))[:3:2] == (200, b"ready\n")
        assert (await http(server.port, "HEAD", "/metrics"))[2] == b""
        assert (await http(server.port, "GET", "/"))[0] == 404
        assert (await http(server.port, "POST", "/metrics"))[0] == 405
    finally:
        await server.stop()


async def test_a_client_that_sends_nonsense_or_nothing_is_hung_up_on() -> None:
    server = MetricsServer(CollectorRegistry(), ready=lambda: True)
    await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"hello\r\n\r\n")
        assert await reader.read() == b""
        writer.close()
        assert (await http(server.port, "GET", "/ready"))[0] == 200
    finally:
        await server.stop()


async def test_a_failing_monitor_stops_the_service_and_the_endpoint() -> None:
    cancelled = asyncio.Event()

    async def service() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            cancelled.set()

    async def monitor() -> None:
        await asyncio.sleep(0.05)
        raise RuntimeError("monitor bug")

    settings = Settings.model_construct(metrics_port=0, metrics_host="127.0.0.1")
    with pytest.raises(RuntimeError, match="monitor bug"):
        await run_observed(
            service(), settings, CollectorRegistry(), ready=lambda: True, monitors=[monitor()]
        )
    assert cancelled.is_set()


async def test_without_a_metrics_port_no_endpoint_is_opened() -> None:
    async def service() -> None:
        await asyncio.sleep(0)

    async def monitor() -> None:
        await asyncio.sleep(3600)

    settings = Settings.model_construct(metrics_port=None)
    await asyncio.wait_for(
        run_observed(
            service(), settings, CollectorRegistry(), ready=lambda: True, monitors=[monitor()]
        ),
        5,
    )
