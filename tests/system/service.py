"""`booking serve` as a separate process tree, configured only through its environment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from attrs import frozen

from tests.serving import free_port, wait_until_ready

BOOKING = Path(sys.executable).with_name("booking")
STARTUP_ATTEMPTS = 150  # x 0.1 s
STOP_SECONDS = 15
CLI_SECONDS = 60
NO_PROXY = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


class ServiceFailed(AssertionError):
    """The service did not start, or a CLI command failed; the message carries its output."""


@frozen
class StripeConfig:
    api_base: str
    webhook_secret: str


def service_env(database_url: str, stripe: StripeConfig, data_dir: Path, **extra: str) -> dict[str, str]:
    """What an operator would set, plus a generous rate limit and hold caps (all test clients share
    one address)."""
    return (
        dict(os.environ)
        | {
            "DATABASE_URL": database_url,
            "BOOKING_SECRET_KEY": "system-test-secret-" + "x" * 32,
            "STRIPE_SECRET_KEY": "sk_test_fake_system",
            "STRIPE_WEBHOOK_SECRET": stripe.webhook_secret,
            "STRIPE_API_BASE": stripe.api_base,
            "BOOKING_DATA_DIR": str(data_dir),
            "BOOKING_RATE_LIMIT_PER_MINUTE": "10000",
            "HOLD_LIMIT_PER_CLIENT": "10000",  # one address and phone for every client
            "HOLD_LIMIT_PRACTITIONER_SHARE": "1",
        }
        | NO_PROXY
        | extra
    )


@frozen
class RunningService:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def unexpected_errors(self) -> list[str]:
        """Log lines of requests that failed unexpectedly (answered 500 with an error id)."""
        return [line[:2000] for line in self.log().splitlines() if "unexpected error" in line]

    def worker_pids(self) -> list[int]:
        """The uvicorn workers: the children of the supervising process."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def worker_connected_to(self, port: int) -> int | None:
        """The worker with an open TCP connection to 127.0.0.1:`port` (read from /proc), if any."""
        inodes = _socket_inodes_connected_to(port)
        for pid in self.worker_pids():
            fds = Path(f"/proc/{pid}/fd")
            with suppress(FileNotFoundError, PermissionError):
                if any(
                    os.readlink(fd).removeprefix("socket:[").rstrip("]") in inodes for fd in fds.iterdir()
                ):
                    return pid
        return None


def _socket_inodes_connected_to(port: int) -> set[str]:
    remote = f"0100007F:{port:04X}"  # 127.0.0.1 as /proc/net/tcp writes it
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return {fields[9] for fields in (line.split() for line in lines) if fields[2] == remote}


@contextmanager
def serving(env: Mapping[str, str], log_path: Path, workers: int = 2) -> Iterator[RunningService]:
    """Start `booking serve`, wait for /readyz, yield; always terminate the whole process tree."""
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(BOOKING), "serve", "--port", str(port), "--workers", str(workers)],
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so cleanup reaches every worker
        )
        service = RunningService(f"http://127.0.0.1:{port}", process, log_path)
        try:
            wait_until_ready(service.base_url, service.process, service.log, STARTUP_ATTEMPTS)
            yield service
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_SECONDS)
    with suppress(ProcessLookupError):  # workers the supervisor did not take down (e.g. a restarted one)
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=STOP_SECONDS)


def run_cli(args: Sequence[str], env: Mapping[str, str]) -> str:
    """Run a `booking` command to completion; its output, or ServiceFailed with it."""
    result = subprocess.run(
        [str(BOOKING), *args], env=dict(env), capture_output=True, text=True, timeout=CLI_SECONDS, check=False
    )
    if result.returncode != 0:
        raise ServiceFailed(f"booking {' '.join(args)} failed: {result.stdout}{result.stderr}")
    return result.stdout
