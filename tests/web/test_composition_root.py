"""The composition root opens each adapter once and closes what it opened, also when a later step
fails; the container it yields is frozen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest

from booking_adapters import sql
from booking_web import bootstrap
from booking_web.bootstrap import open_container, prepare
from booking_web.cli import main
from booking_web.settings import Settings
from tests.web.test_cli import data_dir as data_dir  # the same temporary data directory, autouse


class Opened:
    """Counts the databases opened and closed through the SQL adapter."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.opened = 0
        self.closed = 0
        real_open, real_close = sql.open_database, sql.Database.close

        async def counting(url: str, **options: Any) -> sql.Database:
            self.opened += 1
            return await real_open(url, **options)

        async def counted_close(database: sql.Database) -> None:
            self.closed += 1
            await real_close(database)

        monkeypatch.setattr(sql.Database, "close", counted_close)
        monkeypatch.setattr(sql, "open_database", counting)


def test_a_booking_command_opens_the_database_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["db", "upgrade"])
    databases = Opened(monkeypatch)
    main(["practitioners", "list"])
    assert any(line.startswith("sam-lee\t") for line in capsys.readouterr().out.splitlines())
    assert (databases.opened, databases.closed) == (1, 1)


def test_what_was_opened_is_closed_when_a_later_step_fails(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=data_dir)
    anyio.run(prepare, settings)
    databases = Opened(monkeypatch)

    async def unreachable(*args: object, **kwargs: object) -> object:
        raise OSError("Cal-com could not be opened")

    monkeypatch.setattr(bootstrap, "open_calcom", unreachable)

    async def build() -> None:
        async with open_container(settings):
            pass

    with pytest.raises(OSError, match="Cal-com could not be opened"):
        anyio.run(build)
    assert (databases.opened, databases.closed) == (1, 1)


def test_the_container_is_not_changed_after_it_is_built(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir)
    anyio.run(prepare, settings)

    async def build() -> None:
        async with open_container(settings) as container:
            with pytest.raises(attrs.exceptions.FrozenInstanceError):
                container.outbox_worker = None  # type: ignore[misc]

    anyio.run(build)
