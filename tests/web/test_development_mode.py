"""The development-mode switch (`Settings.development`): when it is on, what only it turns on (demo
practitioners seeded into an empty database, local test payments, /dev/mailbox), and that local test
payments never face the public."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import attrs
import httpx
import pytest

from booking_adapters import sql
from booking_web.bootstrap import check_startup
from booking_web.cli import main
from booking_web.demo import DEMO_PRACTITIONERS
from booking_web.settings import ConfigurationError, Settings
from tests.serving import booking_serve
from tests.web.embedded import environment, serving, started

FAKE_STRIPE = {"STRIPE_SECRET_KEY": "sk_test_fake_mode", "STRIPE_WEBHOOK_SECRET": "whsec_fake_mode"}


@pytest.mark.parametrize(
    ("env", "development"),
    [
        ({}, True),
        ({"HOST": "::1"}, True),
        ({"HOST": "localhost", "PUBLIC_BASE_URL": "http://localhost:8000"}, True),
        ({"HOST": "0.0.0.0"}, False),
        ({"HOST": "192.168.1.5"}, False),
        ({"HOST": "booking.internal"}, False),  # a name may resolve to anything
        ({"PUBLIC_BASE_URL": "https://book.example.org"}, False),
        ({"DATABASE_URL": "sqlite:///elsewhere.db"}, False),
        (FAKE_STRIPE, False),
    ],
)
def test_development_mode_is_local_and_without_real_data_or_money(
    env: dict[str, str], development: bool
) -> None:
    assert Settings.from_env(env).development is development


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"HOST": "0.0.0.0"}, "HOST 0.0.0.0 is not a loopback address"),
        ({"PUBLIC_BASE_URL": "https://book.example.org"}, "PUBLIC_BASE_URL is https"),
        ({"HOST": "::", "PUBLIC_BASE_URL": "https://book.example.org"}, "HOST :: is not a loopback"),
    ],
)
def test_serve_refuses_local_test_payments_on_a_public_host(
    env: dict[str, str],
    reason: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("DATABASE_URL", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "HOST", "PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOOKING_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("LOG_LEVEL", "LOUD")  # reported in the same message
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exited:
        main(["serve"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are required" in err
    assert reason in err and "LOG_LEVEL" in err


@pytest.mark.anyio
async def test_an_external_database_without_stripe_keys_does_not_serve_but_migrates(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/shared.db"
    sql.upgrade(url)
    env = {"DATABASE_URL": url, "BOOKING_DATA_DIR": str(tmp_path / "var")}
    with pytest.raises(ConfigurationError, match="DATABASE_URL is set"):
        await check_startup(env, serving=True)
    await check_startup(env)  # the other commands (import, reconcile...) need no Stripe keys


async def _practitioner_ids(settings: Settings) -> set[str]:
    database = await sql.open_database(settings.database_location)
    try:
        return {practitioner.id for practitioner in await database.directory.list()}
    finally:
        await database.close()


@pytest.mark.anyio
async def test_demo_practitioners_are_seeded_once_so_that_a_removed_one_stays_removed(tmp_path: Path) -> None:
    env = {"BOOKING_DATA_DIR": str(tmp_path / "var")}
    settings = await check_startup(env, serving=True)
    assert await _practitioner_ids(settings) == {"jane-doe", "sam-lee"}
    with sqlite3.connect(settings.sqlite_path) as connection:
        connection.execute("DELETE FROM practitioners WHERE id = 'jane-doe'")
    await check_startup(env, serving=True)  # a restart
    assert await _practitioner_ids(settings) == {"sam-lee"}


@pytest.mark.anyio
async def test_a_database_with_practitioners_of_its_own_gets_no_demo(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    settings.data_dir.mkdir()
    sql.upgrade(settings.database_location)
    database = await sql.open_database(settings.database_location)
    try:
        await database.directory.upsert(attrs.evolve(DEMO_PRACTITIONERS[0], id="ada", name="Ada"))
    finally:
        await database.close()
    await check_startup({"BOOKING_DATA_DIR": str(settings.data_dir)}, serving=True)
    assert await _practitioner_ids(settings) == {"ada"}


def test_real_payments_on_the_embedded_database_get_no_demo_mailbox_or_test_payments(tmp_path: Path) -> None:
    settings = started(environment(tmp_path / "var", **FAKE_STRIPE))
    assert not settings.development
    with serving(settings) as client:
        assert client.get("/api/practitioners").json() == {"practitioners": []}
        assert client.get("/dev/mailbox").status_code == 404
        assert client.get("/test-payments/cs_anything").status_code == 404


def test_live_looking_keys_on_all_interfaces_show_no_demo_and_no_mailbox(tmp_path: Path) -> None:
    """The issue's done-when, on the real `booking serve` process."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STRIPE_", "DATABASE_URL", "BOOKING_", "PUBLIC_BASE_URL", "HOST", "PORT"))
    }
    env |= {
        "STRIPE_SECRET_KEY": "sk_live_fake_done_when",
        "STRIPE_WEBHOOK_SECRET": "whsec_fake_done_when",
        "PUBLIC_BASE_URL": "https://booking.example.org",
        "BOOKING_DATA_DIR": str(tmp_path / "var"),
        "NO_PROXY": "127.0.0.1,localhost",
    }
    host = {"Host": "booking.example.org"}  # what the proxy in front passes on
    with booking_serve(["--host", "0.0.0.0"], env, tmp_path) as base:
        assert httpx.get(f"{base}/api/practitioners", headers=host).json() == {"practitioners": []}
        assert "Jane Doe" not in httpx.get(f"{base}/", headers=host).text
        assert httpx.get(f"{base}/dev/mailbox", headers=host).status_code == 404
    assert "production mode" in (tmp_path / "server.log").read_text()
