"""ops/tcp_proxy.py: each network fault as a client meets it, on real loopback sockets; and a
real broker behind the proxy, where aiokafka times out, recovers and reconnects."""

from __future__ import annotations

import asyncio
import logging
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka.admin import NewTopic

from broker.kafka_clients import new_admin, new_consumer, new_producer
from broker.settings import Settings
from ops.local_kafka import start_kafka
from ops.processes import free_ports
from ops.tcp_proxy import ProxyMode, TcpProxy

REPO_ROOT = Path(__file__).resolve().parent.parent
WAIT = 5.0


class _Echo(socketserver.BaseRequestHandler):
    server: EchoServer

    def handle(self) -> None:
        with self.server.lock:
            self.server.connections += 1
        while data := self.request.recv(4096):
            with self.server.lock:
                self.server.received.append((time.monotonic(), data))
            self.request.sendall(data)


class EchoServer(socketserver.ThreadingTCPServer):
    """The proxy's target: answers every byte with itself, and records when it got each."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Echo)
        self.lock = threading.Lock()
        self.connections = 0
        self.received: list[tuple[float, bytes]] = []

    @property
    def port(self) -> int:
        port: int = self.server_address[1]
        return port


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    server = EchoServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def proxy(echo: EchoServer) -> Iterator[TcpProxy]:
    with TcpProxy("127.0.0.1", echo.port) as running:
        yield running


def _connect(proxy: TcpProxy) -> socket.socket:
    return socket.create_connection(("127.0.0.1", proxy.port), timeout=WAIT)


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError(f"closed after {data!r}")
        data += chunk
    return data


def test_pass_through_forwards_both_ways(proxy: TcpProxy, echo: EchoServer) -> None:
    with _connect(proxy) as client:
        client.sendall(b"ping")
        assert _recv_exactly(client, 4) == b"ping"
        client.sendall(b"pong")
        assert _recv_exactly(client, 4) == b"pong"
    assert proxy.mode is ProxyMode.PASS_THROUGH
    assert (proxy.connections_accepted, echo.connections) == (1, 1)


def test_delay_holds_responses_each_by_the_delay_not_by_the_sum(
    proxy: TcpProxy, echo: EchoServer
) -> None:
    with _connect(proxy) as client:
        proxy.delay(1.0)
        sent = time.monotonic()
        client.sendall(b"a")
        time.sleep(0.3)
        client.sendall(b"b")
        assert _recv_exactly(client, 1) == b"a"
        first = time.monotonic() - sent
        assert _recv_exactly(client, 1) == b"b"
        second = time.monotonic() - sent
    # Requests are not delayed: the target had both long before the client got an answer.
    assert [data for _, data in echo.received] == [b"a", b"b"]
    assert echo.received[1][0] - sent < 0.6
    assert 1.0 <= first < 1.25
    assert 1.3 <= second < 1.8


def test_reset_sends_an_rst_and_refuse_new_closes_the_port(
    proxy: TcpProxy, echo: EchoServer
) -> None:
    client = _connect(proxy)
    client.sendall(b"x")
    assert _recv_exactly(client, 1) == b"x"

    proxy.reset()
    with pytest.raises(ConnectionResetError):
        client.recv(1)
    client.close()
    assert proxy.open_connections == 0
    with _connect(proxy) as again:
        again.sendall(b"y")
        assert _recv_exactly(again, 1) == b"y"

        proxy.reset(refuse_new=True)
        assert proxy.mode is ProxyMode.REFUSING
        with pytest.raises(ConnectionResetError):
            again.recv(1)
    with pytest.raises(ConnectionRefusedError):
        _connect(proxy)

    proxy.pass_through()
    with _connect(proxy) as back:
        back.sendall(b"z")
        assert _recv_exactly(back, 1) == b"z"
    assert echo.connections == 3


def test_blackhole_forwards_nothing_then_delivers_what_it_held(
    proxy: TcpProxy, echo: EchoServer
) -> None:
    with _connect(proxy) as open_before:
        open_before.sendall(b"1")
        assert _recv_exactly(open_before, 1) == b"1"

        proxy.blackhole(seconds=1.5)
        started = time.monotonic()
        open_before.sendall(b"2")
        # Accepted, as a partitioned network's far side seems to be; the target never sees it.
        opened_during = _connect(proxy)
        opened_during.sendall(b"3")
        open_before.settimeout(0.7)
        with pytest.raises(TimeoutError):
            open_before.recv(1)
        mode_during = proxy.mode
        assert [data for _, data in echo.received] == [b"1"]
        assert echo.connections == 1

        # Ends by itself, and the held bytes flow on intact streams.
        open_before.settimeout(WAIT)
        assert _recv_exactly(open_before, 1) == b"2"
        with opened_during:
            assert _recv_exactly(opened_during, 1) == b"3"
        assert time.monotonic() - started >= 1.5
    assert (mode_during, proxy.mode) == (ProxyMode.BLACKHOLE, ProxyMode.PASS_THROUGH)
    assert echo.connections == 2


def test_the_command_line_proxy_obeys_stdin(echo: EchoServer) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "ops.tcp_proxy", f"127.0.0.1:{echo.port}"],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        banner = process.stdout.readline().split()
        assert banner[0] == "listening"
        port = int(banner[1].rpartition(":")[2])

        def command(line: str) -> str:
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(line + "\n")
            process.stdin.flush()
            return process.stdout.readline().strip()

        with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as client:
            assert command("blackhole") == "ok blackhole"
            client.sendall(b"q")
            client.settimeout(0.5)
            with pytest.raises(TimeoutError):
                client.recv(1)
            assert command("pass") == "ok pass"
            client.settimeout(WAIT)
            assert _recv_exactly(client, 1) == b"q"
        assert command("delay 0.2") == "ok delay"
        assert command("reset refuse") == "ok refusing"
        assert command("explode").startswith("error: unknown command")
        assert command("delay -1").startswith("error: TCP proxy to")
        process.stdin.close()
        assert process.wait(timeout=WAIT) == 0
    finally:
        process.kill()
        process.wait()


TOPIC = "through-the-proxy"


@pytest.mark.kafka
@pytest.mark.slow
async def test_kafka_clients_time_out_recover_and_reconnect_through_the_proxy(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The broker advertises the proxy's port, so every connection after the bootstrap one
    goes through the proxy as well: what the client meets is what the proxy does.

    Under a blackhole aiokafka's produce request times out after ``request_timeout_ms`` and
    is retried for ever: ``send_and_wait`` itself never gives up, so a caller needs a deadline
    of its own; and ``stop()`` flushes, so it hangs until the network is back.
    """
    broker_port = free_ports(1)[0]
    with TcpProxy("127.0.0.1", broker_port) as proxy:
        kafka = await asyncio.to_thread(
            start_kafka, tmp_path / "kafka", port=broker_port, advertised_port=proxy.port
        )
        try:
            hub = kafka.client_settings().model_copy(update={"bootstrap_servers": proxy.address})
            admin = new_admin(hub)
            await admin.start()
            try:
                await admin.create_topics([NewTopic(TOPIC, 1, 1)])
            finally:
                await admin.close()
            producer = new_producer(hub, role="proxied", request_timeout_ms=2000)
            await producer.start()
            try:
                await producer.send_and_wait(TOPIC, b"before")

                proxy.blackhole()
                with (
                    caplog.at_level(logging.WARNING, logger="aiokafka"),
                    pytest.raises(TimeoutError),
                ):
                    await asyncio.wait_for(producer.send_and_wait(TOPIC, b"held"), 6)
                assert "RequestTimedOutError" in caplog.text

                proxy.pass_through()
                await asyncio.wait_for(producer.send_and_wait(TOPIC, b"after"), 30)

                accepted = proxy.connections_accepted
                proxy.reset()
                await asyncio.wait_for(producer.send_and_wait(TOPIC, b"reconnected"), 30)
                assert proxy.connections_accepted > accepted
            finally:
                proxy.pass_through()
                await producer.stop()
            assert await _values(hub) == [b"before", b"held", b"after", b"reconnected"]
        finally:
            kafka.stop()


async def _values(hub: Settings) -> list[bytes]:
    """The record whose send was abandoned under the blackhole was still delivered, once, in
    order: the idempotent producer kept retrying it."""
    consumer = new_consumer(hub, TOPIC, group_id=None, role="proxied-check")
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=5000)
    finally:
        await consumer.stop()
    return [bytes(r.value or b"") for records in batches.values() for r in records]
