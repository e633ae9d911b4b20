"""Settings from the environment: the embedded default, and every problem reported in one message."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import attrs
import pytest

from booking_web.bootstrap import check_startup, persistent_secret
from booking_web.settings import ConfigurationError, Settings


def test_no_variables_is_the_embedded_default() -> None:
    settings = Settings.from_env({})
    assert settings.embedded
    assert not settings.uses_stripe
    assert settings.public_base_url == "http://127.0.0.1:8000"
    assert settings.sqlite_path == Path("var/booking.db")


def test_an_empty_environment_reads_as_the_defaults_written_on_the_class() -> None:
    read = Settings.from_env({})
    for field in attrs.fields(Settings):
        assert getattr(read, field.name) == getattr(Settings(), field.name), field.name


def test_host_and_port_shape_the_default_public_url() -> None:
    settings = Settings.from_env({"HOST": "0.0.0.0", "PORT": "9000"})
    assert (settings.host, settings.port) == ("0.0.0.0", 9000)
    assert settings.public_base_url == "http://127.0.0.1:9000"


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env(
            {
                "STRIPE_SECRET_KEY": "sk_live_fake123",
                "PUBLIC_BASE_URL": "http://shop.example",
                "PORT": "eighty",
                "DATABASE_URL": "mysql://db/booking",
                "LOG_LEVEL": "LOUD",
            }
        )
    message = str(caught.value)
    for expected in ("STRIPE_WEBHOOK_SECRET", "https://", "PORT", "DATABASE_URL", "LOG_LEVEL"):
        assert expected in message
    assert len(caught.value.problems) == 5


@pytest.mark.parametrize(("raw", "expected"), [("false", False), ("OFF", False), ("1", True), ("yes", True)])
def test_the_access_log_can_be_turned_off(raw: str, expected: bool) -> None:
    assert Settings.from_env({}).access_log
    assert Settings.from_env({"ACCESS_LOG": raw}).access_log is expected


def test_an_unreadable_access_log_flag_is_a_problem() -> None:
    with pytest.raises(ConfigurationError, match="ACCESS_LOG must be true or false, not 'sometimes'"):
        Settings.from_env({"ACCESS_LOG": "sometimes"})


def test_postgres_needs_a_shared_booking_secret() -> None:
    with pytest.raises(ConfigurationError, match="BOOKING_SECRET_KEY"):
        Settings.from_env({"DATABASE_URL": "postgresql://user@host/db"})
    settings = Settings.from_env(
        {"DATABASE_URL": "postgresql://user@host/db", "BOOKING_SECRET_KEY": "k" * 40}
    )
    assert not settings.embedded


@pytest.mark.anyio
async def test_an_unreachable_database_joins_the_other_problems(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",  # nothing listens on port 1
        "BOOKING_SECRET_KEY": "k" * 40,
        "STRIPE_SECRET_KEY": "sk_test_fake123",
        "BOOKING_DATA_DIR": str(tmp_path),
    }
    with pytest.raises(ConfigurationError) as caught:
        await check_startup(env)
    assert any("STRIPE_WEBHOOK_SECRET" in p for p in caught.value.problems)
    assert any("DATABASE_URL" in p for p in caught.value.problems)


@pytest.mark.anyio
async def test_an_unmigrated_database_names_the_upgrade_command(tmp_path: Path) -> None:
    (tmp_path / "empty.db").touch()
    with pytest.raises(ConfigurationError, match="booking db upgrade"):
        await check_startup(
            {"DATABASE_URL": f"sqlite:///{tmp_path}/empty.db", "BOOKING_DATA_DIR": str(tmp_path)}
        )


@pytest.mark.anyio
async def test_the_embedded_default_creates_migrates_and_seeds_once(tmp_path: Path) -> None:
    env = {"BOOKING_DATA_DIR": str(tmp_path / "var")}
    settings = await check_startup(env)
    assert settings.sqlite_path.exists()
    secret = (tmp_path / "var" / "secret_key").read_text()
    await check_startup(env)  # a restart keeps the secret
    assert (tmp_path / "var" / "secret_key").read_text() == secret


def test_a_persistent_secret_is_created_once(tmp_path: Path) -> None:
    first = persistent_secret(tmp_path / "s", prefix="whsec_local_")
    assert first.startswith("whsec_local_") and len(first) > 40
    assert persistent_secret(tmp_path / "s") == first
    assert (tmp_path / "s").stat().st_mode & 0o777 == 0o600


def test_redis_shares_the_rate_limits_when_its_url_is_set() -> None:
    assert Settings.from_env({}).redis_url is None  # per worker, in memory
    settings = Settings.from_env({"REDIS_URL": "redis://:pw@cache:6379/2", "REDIS_KEY_PREFIX": "shop"})
    assert (settings.redis_url, settings.redis_key_prefix) == ("redis://:pw@cache:6379/2", "shop")
    assert "pw" not in repr(settings)
    with pytest.raises(ConfigurationError, match="REDIS_URL must start with redis://"):
        Settings.from_env({"REDIS_URL": "memcached://cache:11211"})


def test_client_data_settings_are_read_and_checked() -> None:
    settings = Settings.from_env(
        {
            "CLIENT_DATA_RETENTION_DAYS": "365",
            "PRIVACY_NOTICE": "We keep your details for a year.",
            "PRIVACY_NOTICE_URL": "https://example.org/privacy",
        }
    )
    assert settings.client_data_retention_days == 365 and settings.client_data_retention == timedelta(
        days=365
    )
    assert settings.privacy_notice == "We keep your details for a year."
    assert settings.privacy_notice_url == "https://example.org/privacy"
    assert Settings.from_env({}).client_data_retention is None  # unset: kept
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env(
            {
                "CLIENT_DATA_RETENTION_DAYS": "0",
                "PRIVACY_NOTICE_URL": "javascript:alert(1)",
                "PRIVACY_NOTICE": "x" * 1001,
            }
        )
    message = str(caught.value)
    assert "CLIENT_DATA_RETENTION_DAYS: must be a whole number of days from 1" in message
    assert "PRIVACY_NOTICE_URL" in message and "PRIVACY_NOTICE may have at most 1000" in message
