"""Cal.com settings from the environment, and the start-up check of the API key."""

from __future__ import annotations

import pytest

from booking_adapters.calcom import CalcomSettings, SlotTakenPolicy, UnreachablePolicy
from tests.contract.availability_fixtures import practitioner


def test_defaults_refuse_when_unreachable_and_cancel_with_a_refund_when_taken() -> None:
    settings = CalcomSettings.from_env({"CALCOM_API_KEY": "cal_test_fake_key"})

    assert settings.api_base == "https://api.cal.com"
    assert settings.unreachable is UnreachablePolicy.REFUSE
    assert settings.slot_taken is SlotTakenPolicy.CANCEL_AND_REFUND
    assert "cal_test_fake_key" not in repr(settings)


def test_every_invalid_variable_is_reported_at_once() -> None:
    env = {
        "CALCOM_API_BASE": "api.cal.com",
        "CALCOM_CACHE_TTL_SECONDS": "-1",
        "CALCOM_UNREACHABLE_POLICY": "maybe",
    }

    with pytest.raises(ValueError, match="CALCOM_API_BASE") as raised:
        CalcomSettings.from_env(env)
    assert "CALCOM_CACHE_TTL_SECONDS" in str(raised.value)
    assert "CALCOM_UNREACHABLE_POLICY must be one of refuse, allow" in str(raised.value)


def test_a_missing_key_is_an_error_only_when_a_practitioner_names_an_event_type() -> None:
    settings = CalcomSettings.from_env({})
    settings.check_for([practitioner(None)])

    with pytest.raises(ValueError, match=r"CALCOM_API_KEY is not set, but practitioner\(s\) ada take"):
        settings.check_for([practitioner(None, "bea"), practitioner()])
