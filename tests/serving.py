"""For tests that start `booking serve` in a process of its own: a free port, waiting until the
service says it is ready, and the serving itself."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

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


@contextmanager
def booking_serve(args: Sequence[str], env: Mapping[str, str], workdir: Path) -> Iterator[str]:
    """`booking serve --host 127.0.0.1 --port <free> *args` in `workdir`, logging to server.log there;
    yields its base URL once ready, and stops it on leaving."""
    port = free_port()
    booking = Path(sys.executable).with_name("booking")
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [str(booking), "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            cwd=workdir,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_ready(base, server, log_path.read_text)
            yield base
        finally:
            server.terminate()
            server.wait(timeout=15)
