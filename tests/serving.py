"""For tests that start `booking serve` in a process of its own: a free port, and waiting until the
service says it is ready."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable

import httpx


class ServerNotReady(AssertionError):
    """The service exited, or did not answer /readyz with 200 in time; the message has its log."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_ready(
    base_url: str, process: subprocess.Popen[bytes], log: Callable[[], str], attempts: int = 150
) -> None:
    """Poll /readyz every 0.1 s, at most `attempts` times."""
    for _ in range(attempts):
        if process.poll() is not None:
            raise ServerNotReady(f"the service exited: {log()}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise ServerNotReady(f"the service did not become ready: {log()}")
