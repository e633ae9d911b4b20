"""PostgreSQL for system tests: the shared server (a scratch database on it), or a private cluster of
the test's own that it may stop and start at will."""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from attrs import frozen
from sqlalchemy.engine import make_url

from booking_adapters import sql
from booking_adapters.sql.scratch import check_reachable, scratch_database
from booking_core import Practitioner
from booking_web.demo import DEMO_PRACTITIONERS

ADMIN_URL = os.environ.get("BOOKING_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
PG_COMMAND_SECONDS = 60


def skip_or_fail(reason: str) -> None:
    """One clear line locally; under CI a missing prerequisite is a failure, not a silent skip."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def require_shared_server() -> str:
    try:
        check_reachable(ADMIN_URL)
    except psycopg.OperationalError as error:
        shown = make_url(ADMIN_URL).render_as_string(hide_password=True)
        reason = " ".join(str(error).split())  # the driver's message spans lines; a skip reason is one
        skip_or_fail(f"PostgreSQL not reachable at {shown} (BOOKING_TEST_POSTGRES_URL): {reason}")
    return ADMIN_URL


@contextmanager
def seeded_database(
    admin_url: str, practitioners: Sequence[Practitioner] = DEMO_PRACTITIONERS
) -> Iterator[str]:
    """A new migrated database on `admin_url`'s server with `practitioners`; dropped on exit."""
    with scratch_database(admin_url, prefix="booking_system") as url:
        asyncio.run(_seed(url, practitioners))
        yield url


async def _seed(url: str, practitioners: Sequence[Practitioner]) -> None:
    database = await sql.open_database(url)
    try:
        for practitioner in practitioners:
            await database.directory.upsert(practitioner)
    finally:
        await database.close()


def _server_binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


@frozen
class PrivateCluster:
    """A PostgreSQL cluster in a temp dir on a free port, run as the postgres OS user when we are root
    (the server refuses to run as root). Only this cluster is ever stopped: never the shared one."""

    bin_dir: Path
    data_dir: Path
    port: int
    run_as: Sequence[str]

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.run_as, str(self.bin_dir / tool), *args],
            check=True,
            capture_output=True,
            timeout=PG_COMMAND_SECONDS,
        )

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data_dir} -c fsync=off"
        log = str(self.data_dir / "server.log")
        self._run("pg_ctl", "-D", str(self.data_dir), "-o", options, "-l", log, "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "-t", "30", "stop")

    def is_running(self) -> bool:
        result = subprocess.run(
            [*self.run_as, str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "status"],
            capture_output=True,
            timeout=PG_COMMAND_SECONDS,
            check=False,
        )
        return result.returncode == 0


@contextmanager
def private_cluster(port: int) -> Iterator[PrivateCluster]:
    """initdb, start, yield; always stopped (immediately) and deleted afterwards."""
    bin_dir = _server_binaries()
    if bin_dir is None:
        skip_or_fail("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin")
    assert bin_dir is not None
    # Directly under /tmp: pytest's tmp_path sits in a root-only directory the postgres user cannot enter.
    data_dir = Path(tempfile.mkdtemp(prefix="booking-private-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        run_as = ["runuser", "-u", "postgres", "--"]
        shutil.chown(data_dir, "postgres")
    cluster = PrivateCluster(bin_dir, data_dir, port, run_as)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        if cluster.is_running():
            cluster.stop("immediate")
        shutil.rmtree(data_dir, ignore_errors=True)
