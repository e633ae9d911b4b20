"""The `booking` command on the embedded default, in a temporary data directory."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import pytest
from starlette.testclient import TestClient

from booking_adapters.sql import open_database
from booking_core.testing.contracts import hold
from booking_web.app import create_app
from booking_web.cli import main
from booking_web.settings import Settings
from tests.web.test_practitioner_import import ISSUE_EXAMPLE, SERVICES


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


def test_list_shows_each_service(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "team.toml"
    path.write_text(SERVICES)
    main(["practitioners", "import", str(path)])
    main(["practitioners", "list"])
    ada = [line for line in capsys.readouterr().out.splitlines() if line.startswith("ada-ng\t")]
    assert ada == ["ada-ng\tAda Ng\tEurope/Berlin\tintro 15 min 0.00 EUR\tsession 50 min 90.00 CHF"]


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


TEAM = """
[[practitioners]]
id = "ann-bo"
name = "Ann Bo"
timezone = "Europe/Berlin"
session_minutes = 50
price = "90.00"
currency = "EUR"
[practitioners.weekly]
mon = ["09:00-17:00"]

[[practitioners]]
id = "ben-cho"
name = "Ben Cho"
timezone = "Europe/Berlin"
session_minutes = 50
price = "90.00"
currency = "EUR"
"""


def _hold_a_slot(data_dir: Path, practitioner_id: str) -> None:
    """A client holds a slot of `practitioner_id` (in 2030: ahead of today) for payment."""

    async def add() -> None:
        database = await open_database(f"sqlite:///{data_dir / 'booking.db'}")
        try:
            await database.store.add_if_free(*hold("held-1", 600, practitioner_id=practitioner_id))
        finally:
            await database.close()

    anyio.run(add)


def _listed(capsys: pytest.CaptureFixture[str]) -> list[str]:
    capsys.readouterr()
    main(["practitioners", "list"])
    return [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()]


def test_remove_takes_a_practitioner_off_the_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "team.toml"
    path.write_text(TEAM)
    main(["practitioners", "import", str(path)])
    main(["practitioners", "remove", "ann-bo"])
    assert "removed ann-bo" in capsys.readouterr().out
    assert "ann-bo" not in _listed(capsys)
    with pytest.raises(SystemExit) as exited:
        main(["practitioners", "remove", "ann-bo"])
    assert exited.value.code == 1
    assert "There is no practitioner 'ann-bo'" in capsys.readouterr().err


def test_remove_is_refused_while_a_booking_is_live(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "team.toml"
    path.write_text(TEAM)
    main(["practitioners", "import", str(path)])
    _hold_a_slot(data_dir, "ann-bo")
    with pytest.raises(SystemExit) as exited:
        main(["practitioners", "remove", "ann-bo"])
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "ann-bo has 1 live booking (1 held for payment)" in err
    assert "their hold lapses" in err
    assert "ann-bo" in _listed(capsys)


def test_import_prune_removes_who_the_file_leaves_out_but_keeps_live_bookings(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "team.toml"
    path.write_text(TEAM + TEAM.replace("ann-bo", "cy-dee").replace("ben-cho", "dan-eng"))
    main(["practitioners", "import", str(path)])
    _hold_a_slot(data_dir, "dan-eng")
    path.write_text(TEAM)
    with pytest.raises(SystemExit) as exited:
        main(["practitioners", "import", str(path), "--prune"])
    assert exited.value.code == 1
    captured = capsys.readouterr()
    assert "removed cy-dee: not in the file" in captured.out
    assert "kept dan-eng: dan-eng has 1 live booking" in captured.out
    assert "kept 1 practitioner(s) the file does not name: dan-eng" in captured.err
    assert _listed(capsys) == ["ann-bo", "ben-cho", "dan-eng"]  # demo practitioners pruned too


def test_the_example_file_imports(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALCOM_API_KEY", "cal_test_fake_key")  # sam-lee takes slots from Cal.com
    example = Path(__file__).resolve().parents[2] / "examples" / "practitioners.toml"
    main(["practitioners", "import", str(example)])
    assert "imported jane-doe: Dr. Jane Doe" in capsys.readouterr().out
    assert {"jane-doe", "sam-lee"} <= set(_listed(capsys))


def test_feed_prints_the_calendar_address_again_until_rotated(capsys: pytest.CaptureFixture[str]) -> None:
    main(["practitioners", "feed", "sam-lee"])  # a demo practitioner of development mode
    address = capsys.readouterr().out.strip()
    assert address.startswith("http://127.0.0.1:8000/calendar/") and address.endswith(".ics")
    main(["practitioners", "feed", "sam-lee"])
    assert capsys.readouterr().out.strip() == address
    main(["practitioners", "feed", "sam-lee", "--rotate"])
    rotated = capsys.readouterr().out.strip()
    assert rotated != address

    app = create_app(Settings.from_env(os.environ))
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        feed = client.get(urlsplit(rotated).path)
        assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
        assert client.get(urlsplit(address).path).status_code == 404

    with pytest.raises(SystemExit) as exited:
        main(["practitioners", "feed", "nobody"])
    assert exited.value.code == 1
    assert "There is no practitioner 'nobody'" in capsys.readouterr().err
