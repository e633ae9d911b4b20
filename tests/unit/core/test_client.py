import pytest

from booking_core import ClientDetails, InvalidInput


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
