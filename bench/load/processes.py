"""Child processes of a run: started in their own session, waited for, and always stopped.

Each server runs in a new session (process group), so stopping it also stops its uvicorn workers,
and a Ctrl-C in the terminal reaches only this script, whose exit stops everything it started.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

STARTUP_SECONDS = 30.0
STOP_SECONDS = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by `pid` and its live descendants (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        parents[int(entry.name)] = int(fields[1])
        used[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, p in parents.items() if p == parent and child not in tree]
        tree.update(children)
        frontier += children
    return sum(used.get(member, 0.0) for member in tree)


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def booking_command(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("booking")), *args]


def run_once(command: list[str], env: Mapping[str, str]) -> str:
    """Run a short command to completion; its output, or RuntimeError with it."""
    done = subprocess.run(command, env=dict(env), capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[-3:])} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


@contextmanager
def serving(
    name: str, command: list[str], env: Mapping[str, str], ready_url: str, log_dir: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Start `command`, wait until `ready_url` answers 200 (or any answer, if it ends in `*`)."""
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            _wait_ready(process, ready_url, log_path)
            yield process
        finally:
            stop(process)


def _wait_ready(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    any_answer = url.endswith("*")
    url = url.rstrip("*")
    deadline = time.monotonic() + STARTUP_SECONDS
    with httpx.Client(trust_env=False, timeout=2) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args!r} exited:\n{log_path.read_text()[-3000:]}")
            try:
                status: int | None = client.get(url).status_code
            except httpx.TransportError:
                status = None
            if status == 200 or (any_answer and status is not None):
                return
            time.sleep(0.1)
    raise RuntimeError(
        f"{url} did not answer within {STARTUP_SECONDS:.0f} s:\n{log_path.read_text()[-3000:]}"
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group (uvicorn stops its workers), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=STOP_SECONDS)
            return
        except subprocess.TimeoutExpired:
            continue
