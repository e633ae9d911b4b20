"""The settings of Cal.com, e-mail and webhooks: defaults, and every problem in the one start-up message
together with the others (including the Cal.com key that the practitioners in the database need)."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from booking_adapters import sql
from booking_web.bootstrap import check_startup
from booking_web.settings import ConfigurationError, Settings
from tests.contract.availability_fixtures import practitioner


def test_defaults_send_to_the_mailbox_folder_from_the_public_host() -> None:
    settings = Settings.from_env({"PUBLIC_BASE_URL": "https://book.example.org"})
    assert settings.smtp_url is None
    assert not settings.serves_mailbox_page  # an https public address: not development mode
    assert Settings.from_env({}).serves_mailbox_page
    assert settings.sender == "Bookings <bookings@book.example.org>"
    assert settings.webhook_urls == ()
    assert settings.calcom.api_key is None


def test_valid_values_are_taken() -> None:
    settings = Settings.from_env(
        {
            "SMTP_URL": "smtps://user:pa%40ss@mail.example.org:465",
            "MAIL_FROM": "Dr. Jane Doe <jane@example.org>",
            "WEBHOOK_URLS": "https://crm.example/hooks, https://books.example/in",
            "WEBHOOK_SECRET": "whsec_fake" + "x" * 32,
            "CALCOM_API_KEY": "cal_test_fake_key",
            "CALCOM_UNREACHABLE_POLICY": "allow",
        }
    )
    assert settings.sender == "Dr. Jane Doe <jane@example.org>"
    assert settings.webhook_urls == ("https://crm.example/hooks", "https://books.example/in")
    assert settings.calcom.unreachable == "allow"
    assert not settings.serves_mailbox_page
    assert "pa%40ss" not in repr(settings)  # credentials stay out of logs and tracebacks


def test_every_problem_of_the_new_variables_is_listed_with_the_others(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/booking.db"
    sql.upgrade(url)

    async def connect_a_practitioner_to_calcom() -> None:
        database = await sql.open_database(url)
        await database.directory.upsert(practitioner())
        await database.close()

    anyio.run(connect_a_practitioner_to_calcom)
    env = {
        "BOOKING_DATA_DIR": str(tmp_path),
        "DATABASE_URL": url,
        "PORT": "eighty",
        "SMTP_URL": "mail.example.org:587",
        "MAIL_FROM": "bookings",
        "WEBHOOK_URLS": "https://crm.example/hooks, ftp://files.example",
        "CALCOM_API_BASE": "api.cal.com",
        "CALCOM_SLOT_TAKEN_POLICY": "ignore",
    }
    with pytest.raises(ConfigurationError) as caught:
        anyio.run(check_startup, env)
    problems = caught.value.problems
    expected = ("PORT", "SMTP_URL", "MAIL_FROM", "WEBHOOK_URLS: entry 2", "CALCOM_API_BASE", "CALCOM_API_KEY")
    for name in expected:
        assert any(name in problem for problem in problems), name
    assert any("CALCOM_SLOT_TAKEN_POLICY" in problem for problem in problems)
    assert len(problems) == 6
    assert not any("ftp://files.example" in problem for problem in problems)  # URLs may hold credentials


def test_subscribers_need_a_shared_secret_except_in_the_embedded_default() -> None:
    hooks = {"WEBHOOK_URLS": "https://crm.example/hooks"}
    assert Settings.from_env(hooks).webhook_secret is None  # generated in the data directory at start-up
    with pytest.raises(ConfigurationError, match="WEBHOOK_URLS is set without WEBHOOK_SECRET"):
        Settings.from_env(hooks | {"DATABASE_URL": "sqlite:///var/shared.db"})


def test_a_short_webhook_secret_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="WEBHOOK_SECRET must have at least"):
        Settings.from_env({"WEBHOOK_URLS": "https://crm.example/hooks", "WEBHOOK_SECRET": "whsec_short"})
