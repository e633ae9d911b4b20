import pytest

from booking_core import ClientDetails, InvalidInput
from booking_core.client import MAX_PHONE_LENGTH


def test_details_are_normalised() -> None:
    client = ClientDetails.create("  Ann   Example ", "Ann@Example.COM", "+49 (30) 1234-5678")
    assert client == ClientDetails("Ann Example", "Ann@example.com", "+493012345678")


def test_every_wrong_field_is_reported_at_once() -> None:
    with pytest.raises(InvalidInput) as caught:
        ClientDetails.create(" ", "not-an-email", "12")
    assert set(caught.value.fields) == {"name", "email", "phone"}


@pytest.mark.parametrize("phone", ["+49 30", "030 1234567", "+1 555 0000 000000"])
def test_invalid_or_ambiguous_phones_are_rejected(phone: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        ClientDetails.create("Ann", "ann@example.com", phone)
    assert set(caught.value.fields) == {"phone"}


def test_control_characters_in_names_are_rejected() -> None:
    with pytest.raises(InvalidInput) as caught:
        ClientDetails.create("Ann\x00", "ann@example.com", "+493012345678")
    assert "name" in caught.value.fields


def test_a_phone_may_be_as_long_as_the_stated_limit_and_no_longer() -> None:
    padded = "+49 30 1234567".ljust(MAX_PHONE_LENGTH)
    assert ClientDetails.create("Ann", "ann@example.com", padded).phone == "+49301234567"
    with pytest.raises(InvalidInput) as caught:
        ClientDetails.create("Ann", "ann@example.com", padded + " ")
    assert caught.value.fields == {
        "phone": "Please enter a phone number with its country code, e.g. +49 30 1234567."
    }
