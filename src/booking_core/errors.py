"""Domain errors: each says what went wrong in the domain's words and carries a stable code."""

from __future__ import annotations

from collections.abc import Mapping


class BookingError(Exception):
    """Base of every error the core raises on purpose; `code` is stable, `message` is for people."""

    code = "booking_error"
    fields: dict[str, str] | None = None  # what each named field or header has wrong, if it says

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFound(BookingError):
    code = "not_found"


class InvalidInput(BookingError):
    """One or more fields are wrong; `fields` maps each field name to what is wrong with it."""

    code = "invalid_input"
    fields: dict[str, str]

    def __init__(self, fields: Mapping[str, str], message: str = "Some fields are invalid.") -> None:
        super().__init__(message)
        self.fields = dict(fields)


class SlotUnavailable(BookingError):
    code = "slot_unavailable"


class IllegalTransition(BookingError):
    code = "illegal_transition"


class InvalidCancelToken(BookingError):
    code = "invalid_cancel_token"


class IdempotencyKeyReused(BookingError):
    """The Idempotency-Key belongs to a booking requested with another body; names the header."""

    code = "idempotency_key_reused"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.fields = {"Idempotency-Key": message}


class TooManyHolds(BookingError):
    """A new hold would exceed a cap of live unpaid holds (booking_core.hold_limits); `limit` names
    the cap ("email", "phone", "client_address" or "practitioner")."""

    code = "too_many_holds"

    def __init__(self, limit: str, message: str) -> None:
        super().__init__(message)
        self.limit = limit
        self.fields = {limit: message}


class ConcurrentUpdate(BookingError):
    """The booking changed between read and write; the caller reloads and retries."""

    code = "concurrent_update"


class InvalidSignature(BookingError):
    code = "invalid_signature"


class InvalidPaymentEvent(BookingError):
    """A correctly signed webhook body that is not an event this service can take (not a Stripe
    event, or one of the other mode: test vs live)."""

    code = "invalid_event"


class ProviderError(BookingError):
    """An outside system (payments, calendar) failed; `retryable` says whether trying later may help."""

    code = "provider_unavailable"
    provider = "provider"

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class PaymentProviderError(ProviderError):
    provider = "payments"


class AvailabilityProviderError(ProviderError):
    provider = "calendar"


class StorageUnavailable(ProviderError):
    """The database cannot be reached (restarting, overloaded); nothing was changed."""

    provider = "database"
