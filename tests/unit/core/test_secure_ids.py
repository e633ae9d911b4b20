"""booking_adapters.system.SecureIds: ids fit a command line."""

import pytest

from booking_adapters import system
from booking_adapters.system import SecureIds


def test_an_id_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter(["-dash-first", "-again", "plain_Id-9"])
    monkeypatch.setattr(system.secrets, "token_urlsafe", lambda _nbytes: next(draws))
    assert SecureIds(b"k" * 32).new_booking_id() == "plain_Id-9"


def test_ids_carry_128_random_bits() -> None:
    ids = SecureIds(b"k" * 32)
    drawn = {ids.new_booking_id() for _ in range(200)} | {ids.new_time_off_id() for _ in range(200)}
    assert len(drawn) == 400 and all(len(i) == 22 and not i.startswith("-") for i in drawn)
