"""`booking practitioners token ID` and `revoke-tokens ID` on the embedded default: the printed
token signs the practitioner in on the API's terms, only its hash is stored, revoking ends them all."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from sqlalchemy import select

from booking_adapters.memory import SequentialIds
from booking_adapters.sql import open_database
from booking_adapters.sql.tables import practitioner_credentials
from booking_adapters.system import SystemClock
from booking_core import CredentialKind, Practitioner, PractitionerAccess, Unauthenticated
from booking_web.cli import main


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("DATABASE_URL", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "BOOKING_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOOKING_DATA_DIR", str(tmp_path / "var"))
    return tmp_path / "var"


def _token(capsys: pytest.CaptureFixture[str], practitioner_id: str) -> str:
    capsys.readouterr()
    main(["practitioners", "token", practitioner_id])
    return capsys.readouterr().out.splitlines()[-1]


def _whose(data_dir: Path, token: str) -> Practitioner | None:
    """Who the API would take the token for, and what the database keeps of it."""

    async def ask() -> tuple[Practitioner | None, list[str]]:
        database = await open_database(f"sqlite:///{data_dir / 'booking.db'}")
        try:
            access = PractitionerAccess(
                database.directory, database.credentials, SystemClock(), SequentialIds()
            )
            async with database.engine.connect() as connection:
                stored = list(
                    (await connection.execute(select(practitioner_credentials.c.token_hash))).scalars()
                )
            try:
                return await access.practitioner_of(CredentialKind.API_TOKEN, token), stored
            except Unauthenticated:
                return None, stored
        finally:
            await database.close()

    whose, stored = anyio.run(ask)
    assert token not in stored  # hashed
    return whose


def test_a_printed_token_is_the_practitioners_until_revoked(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = _token(capsys, "jane-doe"), _token(capsys, "jane-doe")
    sams = _token(capsys, "sam-lee")
    assert len({first, second, sams}) == 3
    assert len(first) >= 43  # 256 bits, URL-safe
    for token in (first, second):
        whose = _whose(data_dir, token)
        assert whose is not None and whose.id == "jane-doe"
    main(["practitioners", "revoke-tokens", "jane-doe"])
    assert "revoked 2 API tokens of jane-doe" in capsys.readouterr().out
    assert _whose(data_dir, first) is None and _whose(data_dir, second) is None
    whose = _whose(data_dir, sams)
    assert whose is not None and whose.id == "sam-lee"


def test_no_token_for_an_unknown_practitioner(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["practitioners", "token", "nobody"])
    assert exited.value.code == 1
    assert "There is no practitioner 'nobody'" in capsys.readouterr().err
