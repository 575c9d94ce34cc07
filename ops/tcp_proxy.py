"""A loopback TCP proxy that breaks the network between Kafka clients and a broker on demand.

Killing a broker (``ops.kafka_cluster``) tests crashes; the failures clients meet more often
are the network's: answers that come too late, connections reset under them, a peer that
silently stops answering. The proxy sits in front of one broker, which advertises the proxy's
port (``start_kafka(advertised_port=...)``) so that clients come back through it after
metadata, and switches between:

- pass-through;
- ``delay(seconds)``: bytes from the broker reach the client that much later (requests are
  not delayed; each response is delayed by the same amount, not by the sum of those before);
- ``reset(refuse_new=...)``: every open connection is closed with an RST (SO_LINGER 0), as a
  crashed peer or a stateful firewall would; with ``refuse_new`` the port stops listening
  until pass-through, so new connections are refused;
- ``blackhole(seconds)``: connections are accepted and bytes read, but nothing is forwarded
  either way. Held bytes are delivered when the blackhole ends, as TCP retransmits across a
  healed partition, so a connection that outlives it carries an intact stream.

It runs its own event loop in a daemon thread: the harness drives it with plain method calls
from any thread or event loop. ``python -m ops.tcp_proxy HOST:PORT`` runs it as a process of
its own, commanded on stdin (``pass``, ``delay 5``, ``blackhole 30``, ``reset``, ``reset
refuse``), answering each command with ``ok <mode>`` on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import struct
import sys
import threading
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import Any, Self, TypeVar

from broker.errors import ProxyError

T = TypeVar("T")

_CHUNK = 65536
_LINGER_NOW = struct.pack("ii", 1, 0)


class ProxyMode(StrEnum):
    PASS_THROUGH = "pass"
    DELAY = "delay"
    BLACKHOLE = "blackhole"
    REFUSING = "refusing"


@dataclass(eq=False)
class _Link:
    """One client connection and, once the gate lets it through, its upstream connection."""

    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    task: asyncio.Task[None] | None = None

    def abort(self) -> asyncio.Task[None] | None:
        """RST, not FIN: SO_LINGER 0 makes the kernel drop the connection on close. Returns
        the connection's task, cancelled, for the caller to await."""
        for writer in (self.client, self.upstream):
            if writer is None:
                continue
            sock = writer.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_NOW)
            writer.transport.abort()
        if self.task is not None:
            self.task.cancel()
        return self.task


class TcpProxy:
    """Listens on ``127.0.0.1:port`` (a free port by default) and forwards to the target."""

    def __init__(self, target_host: str, target_port: int, *, port: int = 0) -> None:
        self.target = (target_host, target_port)
        self.port = port
        self.connections_accepted = 0
        self._mode = ProxyMode.PASS_THROUGH
        self._delay = 0.0
        self._links: set[_Link] = set()
        self._server: asyncio.Server | None = None
        self._gate: asyncio.Event | None = None
        self._blackhole_end: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def mode(self) -> ProxyMode:
        return self._mode

    @property
    def open_connections(self) -> int:
        return len(self._links)

    def start(self) -> Self:
        """Return once the port listens, so a client connecting next is never refused."""
        if self._thread is not None:
            raise ProxyError(self.target, "already started")
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=loop.run_forever, name=f"tcp-proxy-{self.target[1]}", daemon=True
        )
        self._thread.start()
        self._call(self._setup())
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        self._call(self._teardown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def pass_through(self) -> None:
        self._call(self._switch(ProxyMode.PASS_THROUGH, delay=0.0))

    def delay(self, seconds: float) -> None:
        if seconds < 0:
            raise ProxyError(self.target, f"a delay of {seconds} s is negative")
        self._call(self._switch(ProxyMode.DELAY, delay=seconds))

    def blackhole(self, seconds: float | None = None) -> None:
        """Until :meth:`pass_through`, or for ``seconds`` and then pass-through by itself, so
        that a harness step "30 s of blackhole" needs no timer of its own."""
        self._call(self._switch(ProxyMode.BLACKHOLE, delay=0.0, blackhole_for=seconds))

    def reset(self, *, refuse_new: bool = False) -> None:
        self._call(self._reset(refuse_new))

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            coroutine.close()
            raise ProxyError(self.target, "not started")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    async def _setup(self) -> None:
        self._gate = asyncio.Event()
        self._gate.set()
        await self._listen()

    async def _listen(self) -> None:
        try:
            self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        except OSError as error:
            raise ProxyError(self.target, f"cannot listen on {self.address}: {error}") from error
        self.port = self._server.sockets[0].getsockname()[1]

    async def _teardown(self) -> None:
        if self._blackhole_end is not None:
            self._blackhole_end.cancel()
        if self._server is not None:
            self._server.close()
        await self._abort_all()

    async def _switch(
        self, mode: ProxyMode, *, delay: float, blackhole_for: float | None = None
    ) -> None:
        assert self._gate is not None
        if self._blackhole_end is not None:
            self._blackhole_end.cancel()
            self._blackhole_end = None
        if self._server is None:
            await self._listen()
        self._mode, self._delay = mode, delay
        if mode is ProxyMode.BLACKHOLE:
            self._gate.clear()
            if blackhole_for is not None:
                self._blackhole_end = asyncio.get_running_loop().call_later(
                    blackhole_for, self._end_blackhole
                )
        else:
            self._gate.set()

    def _end_blackhole(self) -> None:
        assert self._gate is not None
        self._blackhole_end = None
        self._mode = ProxyMode.PASS_THROUGH
        self._gate.set()

    async def _reset(self, refuse_new: bool) -> None:
        if refuse_new and self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
            self._mode = ProxyMode.REFUSING
        await self._abort_all()

    async def _abort_all(self) -> None:
        """Returns once every connection is gone, so a client that connects after a reset is
        never mistaken for one it reset."""
        tasks = [task for link in list(self._links) if (task := link.abort()) is not None]
        await asyncio.gather(*tasks, return_exceptions=True)

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Relays in a task of the proxy's own: asyncio's server (Python 3.11) logs a
        traceback for every cancelled connection task it started, and a reset cancels them all.
        """
        self.connections_accepted += 1
        link = _Link(writer)
        self._links.add(link)
        link.task = asyncio.get_running_loop().create_task(self._relay(link, reader))

    async def _relay(self, link: _Link, reader: asyncio.StreamReader) -> None:
        assert self._gate is not None
        writer = link.client
        try:
            # A blackhole swallows the connection attempt too: the broker never sees it.
            await self._gate.wait()
            up_reader, link.upstream = await asyncio.open_connection(*self.target)
            async with asyncio.TaskGroup() as pumps:
                pumps.create_task(self._pump(reader, link.upstream, response=False))
                pumps.create_task(self._pump(up_reader, writer, response=True))
        except* OSError:
            # A peer that resets or refuses ends this connection (the other side is reset
            # too, as it would see it), not the proxy.
            link.abort()
        finally:
            self._links.discard(link)
            for end in (writer, link.upstream):
                if end is not None:
                    end.close()

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, response: bool
    ) -> None:
        """Reads go on whatever the mode, into a queue whose entries carry the time they may
        leave: a delay then shifts each response by the same amount instead of stacking up."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        forward = asyncio.create_task(self._forward(queue, writer))
        try:
            while data := await reader.read(_CHUNK):
                delay = self._delay if response and self._mode is ProxyMode.DELAY else 0.0
                queue.put_nowait((loop.time() + delay, data))
            queue.put_nowait((loop.time(), b""))
            await forward
        finally:
            forward.cancel()

    async def _forward(
        self, queue: asyncio.Queue[tuple[float, bytes]], writer: asyncio.StreamWriter
    ) -> None:
        assert self._gate is not None
        loop = asyncio.get_running_loop()
        while True:
            due, data = await queue.get()
            await asyncio.sleep(max(0.0, due - loop.time()))
            await self._gate.wait()
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()


def _command(proxy: TcpProxy, line: str) -> str:
    match line.split():
        case ["pass"]:
            proxy.pass_through()
        case ["delay", seconds]:
            proxy.delay(float(seconds))
        case ["blackhole"]:
            proxy.blackhole()
        case ["blackhole", seconds]:
            proxy.blackhole(float(seconds))
        case ["reset"]:
            proxy.reset()
        case ["reset", "refuse"]:
            proxy.reset(refuse_new=True)
        case _:
            return f"error: unknown command {line.strip()!r}"
    return f"ok {proxy.mode}"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m ops.tcp_proxy",
        description="Forward a loopback port to HOST:PORT, breaking the link on command. "
        "Commands on stdin: pass | delay SECONDS | blackhole [SECONDS] | reset [refuse].",
    )
    parser.add_argument("target", help="HOST:PORT to forward to")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: free)")
    args = parser.parse_args(argv)
    host, _, port = args.target.rpartition(":")
    with TcpProxy(host, int(port), port=args.port) as proxy:
        print(f"listening {proxy.address}", flush=True)
        for line in sys.stdin:
            if line.strip():
                try:
                    answer = _command(proxy, line)
                except (ValueError, ProxyError) as error:
                    answer = f"error: {error}"
                print(answer, flush=True)


if __name__ == "__main__":
    main()
