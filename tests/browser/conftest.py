"""A real server (`booking serve` on the embedded default, in a temp dir) and Debian's chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.serving import booking_serve

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--headless",
]


def embedded_environment(workdir: Path) -> dict[str, str]:
    """The environment of a `booking` command on the embedded default, its data in `workdir`/var."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STRIPE_", "DATABASE_URL", "BOOKING_", "PUBLIC_BASE_URL"))
    }
    return env | {"BOOKING_DATA_DIR": str(workdir / "var"), "NO_PROXY": "127.0.0.1,localhost"}


def import_team(team_toml: str, env: dict[str, str], workdir: Path) -> None:
    """Practitioners from a team file imported into the database of `env` (the CLI, as a deployer would)."""
    team = workdir / "team.toml"
    team.write_text(team_toml)
    booking = Path(sys.executable).with_name("booking")
    imported = subprocess.run(
        [str(booking), "practitioners", "import", str(team)],
        env=env,
        cwd=workdir,
        capture_output=True,
        timeout=60,
    )
    assert imported.returncode == 0, imported.stderr.decode()


@pytest.fixture(scope="module")
def live_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("live")


@pytest.fixture(scope="module")
def live_server(live_workdir: Path) -> Iterator[str]:
    with booking_serve([], embedded_environment(live_workdir), live_workdir) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Module-scoped: Playwright's sync API keeps an event loop running in this thread while it is
    open, which would stop every later async test."""
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing in CI (.ci/run installs it)")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
