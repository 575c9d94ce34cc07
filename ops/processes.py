"""What the local broker and the local registry share: Java services run as background
processes, found again from a state file by another CLI invocation, and stopped safely."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from broker.errors import NoticeBrokerError

POLL_SECONDS = 0.25


def require_tool(
    tool: str, install_hint: str, *, needed_by: str, error: type[NoticeBrokerError]
) -> str:
    """The tool's path, or ``error`` naming what needs it and how to install it."""
    path = shutil.which(tool)
    if path is None:
        raise error(f"`{tool}` is not on PATH: {needed_by} needs {install_hint}")
    return path


def free_ports(count: int) -> list[int]:
    """``count`` free loopback ports. The sockets stay bound until every number is known, so
    no two coincide."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def pick_ports(port: int | None) -> tuple[int, int]:
    """``port`` (or a free one) and a second free one, never the same."""
    if port is None:
        first, second = free_ports(2)
        return first, second
    return port, free_ports(1)[0]


def log_tail(path: Path, n: int) -> list[str]:
    try:
        with path.open(encoding="utf-8", errors="replace") as log:
            return [line.rstrip("\n") for line in deque(log, maxlen=n)]
    except FileNotFoundError:
        return []


def is_our_process(pid: int, marker: bytes) -> bool:
    """A state file can outlive its process and the pid be reused by another program.

    Where ``/proc`` exists the command line must contain ``marker`` (the service's config file
    or data folder), so that a stop never signals a stranger; elsewhere only the pid's
    existence can be checked.
    """
    proc = Path("/proc")
    if proc.is_dir():
        try:
            argv = (proc / str(pid) / "cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return marker in argv
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def stop_process(pid: int, is_running: Callable[[], bool], timeout: float) -> None:
    """SIGTERM so the service shuts down cleanly and its logs stay readable; SIGKILL only if
    it has not exited within ``timeout``."""
    if not is_running():
        return
    _signal(pid, signal.SIGTERM)
    if not _wait_for_exit(is_running, timeout):
        _signal(pid, signal.SIGKILL)
        _wait_for_exit(is_running, timeout)


def _signal(pid: int, signum: signal.Signals) -> None:
    """The process may exit on its own between the liveness check and the signal."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _wait_for_exit(is_running: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while is_running():
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_SECONDS)
    return True
