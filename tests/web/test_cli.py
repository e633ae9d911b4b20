"""The `booking` command on the embedded default, in a temporary data directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from booking_web.cli import main
from tests.web.test_practitioner_import import ISSUE_EXAMPLE


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("DATABASE_URL", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "BOOKING_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOOKING_DATA_DIR", str(tmp_path / "var"))
    return tmp_path / "var"


def test_db_upgrade_creates_the_embedded_database(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["db", "upgrade"])
    assert (data_dir / "booking.db").exists()
    assert "up to date" in capsys.readouterr().out


def test_import_then_list_upserts_by_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALCOM_API_KEY", "cal_test_fake_key")  # the example connects jane-doe to Cal.com
    path = tmp_path / "team.toml"
    path.write_text(ISSUE_EXAMPLE.replace("Dr. Jane Doe", "Dr. Jane Doe-Smith"))
    main(["practitioners", "import", str(path)])
    main(["practitioners", "list"])
    listed = capsys.readouterr().out.splitlines()
    jane = [line for line in listed if line.startswith("jane-doe\t")]
    assert jane == ["jane-doe\tDr. Jane Doe-Smith\tEurope/Berlin\t50 min\t90.00 EUR"]  # replaced, not added
    assert any(line.startswith("sam-lee\t") for line in listed)  # the demo practitioner stays


def test_housekeeping_commands_report(capsys: pytest.CaptureFixture[str]) -> None:
    main(["holds", "expire"])
    main(["payments", "reconcile"])
    out = capsys.readouterr().out
    assert "lapsed holds checked: 0, released: 0" in out
    assert "refunds issued: 0" in out


def test_configuration_problems_exit_2_with_one_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_fake123")
    monkeypatch.setenv("PORT", "0")
    with pytest.raises(SystemExit) as exited:
        main(["practitioners", "list"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("The booking service cannot start:")
    assert "STRIPE_WEBHOOK_SECRET" in err and "PORT" in err
