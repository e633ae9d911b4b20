"""The client's contact details, validated and normalised with well-kept libraries."""

from __future__ import annotations

import unicodedata

import phonenumbers
from attrs import frozen
from email_validator import EmailNotValidError, validate_email

from booking_core.errors import InvalidInput

MAX_NAME_LENGTH = 200  # counted once runs of spaces are collapsed
MAX_PHONE_LENGTH = 250  # phonenumbers parses no longer input; stated here for the API schema
_PHONE_HINT = "Please enter a phone number with its country code, e.g. +49 30 1234567."


@frozen
class ClientDetails:
    """Name, e-mail (normalised, no DNS look-up) and phone (E.164)."""

    name: str
    email: str
    phone: str

    @classmethod
    def create(cls, name: str, email: str, phone: str, *, default_region: str | None = None) -> ClientDetails:
        """Validate all three at once; InvalidInput names every wrong field."""
        problems: dict[str, str] = {}
        clean_name = _clean_name(name, problems)
        clean_email = _clean_email(email, problems)
        clean_phone = _clean_phone(phone, default_region, problems)
        if problems:
            raise InvalidInput(problems)
        return cls(clean_name, clean_email, clean_phone)

    @property
    def is_erased(self) -> bool:
        """Anonymised (`ERASED`): nobody to write to, nothing of anyone to show."""
        return self == ERASED


ERASED = ClientDetails("(erased)", "erased@erased.invalid", "")
"""What an erased client's details become (booking_core.client_erasure): no name, an address of
the reserved `.invalid` domain that no mail can reach, no phone. The stores keep their columns."""


def _clean_name(name: str, problems: dict[str, str]) -> str:
    cleaned = " ".join(unicodedata.normalize("NFC", name).split())
    if not cleaned:
        problems["name"] = "Please enter your name."
    elif len(cleaned) > MAX_NAME_LENGTH:
        problems["name"] = f"A name may have at most {MAX_NAME_LENGTH} characters."
    elif any(unicodedata.category(ch).startswith("C") for ch in cleaned):
        problems["name"] = "The name contains control characters."
    return cleaned


def _clean_email(email: str, problems: dict[str, str]) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError as error:
        problems["email"] = str(error)
        return email


def _clean_phone(phone: str, region: str | None, problems: dict[str, str]) -> str:
    if len(phone) > MAX_PHONE_LENGTH:
        problems["phone"] = _PHONE_HINT
        return phone
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        problems["phone"] = _PHONE_HINT
        return phone
    if not phonenumbers.is_valid_number(number):
        problems["phone"] = "This is not a valid phone number."
        return phone
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
