"""Domain errors: each says what went wrong in the domain's words and carries a stable code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta


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


class UnknownPractitioner(NotFound):
    """No practitioner has this id: the one wording of the service and every directory."""

    def __init__(self, practitioner_id: str) -> None:
        super().__init__(f"There is no practitioner {practitioner_id!r}.")
        self.practitioner_id = practitioner_id


class UnknownBooking(NotFound):
    """No booking has this id, or none the asker may see (another practitioner's): one wording for
    both, so that an answer does not tell which."""

    def __init__(self) -> None:
        super().__init__("There is no such booking.")


class InvalidInput(BookingError):
    """One or more fields are wrong; `fields` maps each field name to what is wrong with it."""

    code = "invalid_input"
    fields: dict[str, str]

    def __init__(self, fields: Mapping[str, str], message: str = "Some fields are invalid.") -> None:
        super().__init__(message)
        self.fields = dict(fields)


class SlotUnavailable(BookingError):
    """The slot is taken (or otherwise not bookable); `SlotUnavailable()` says so in the one wording
    every store and the service use."""

    code = "slot_unavailable"

    def __init__(
        self, message: str = "This time is not available any more. Please choose another slot."
    ) -> None:
        super().__init__(message)


class BookingLimitReached(SlotUnavailable):
    """The day or week of the slot holds as many live bookings as the practitioner takes (or the
    service does): booking_core.booking_limits. A slot unavailable for that reason, so that every
    caller that handles a taken slot (a late payment's refund, a replayed twin) handles it too."""

    code = "booking_limit_reached"


class PractitionerRemoved(SlotUnavailable):
    """The store refuses a booking (or a late payment's confirmation) of a removed practitioner."""

    def __init__(self, message: str = "This practitioner no longer takes bookings.") -> None:
        super().__init__(message)


class PractitionerHasLiveBookings(BookingError):
    """A practitioner cannot leave the directory while bookings still hold their time: slots held
    for payment, and confirmed sessions not yet over."""

    code = "practitioner_has_live_bookings"

    def __init__(self, practitioner_id: str, held: Sequence[str], confirmed: Sequence[str]) -> None:
        self.practitioner_id = practitioner_id
        self.held = tuple(held)
        self.confirmed = tuple(confirmed)
        counts = [
            f"{len(self.confirmed)} confirmed and not yet over" if self.confirmed else "",
            f"{len(self.held)} held for payment" if self.held else "",
        ]
        what_to_do = [
            f"cancel the confirmed ones first ({', '.join(self.confirmed)})" if self.confirmed else "",
            "wait until the held ones are paid (then cancel them) or their hold lapses" if self.held else "",
        ]
        total = len(self.held) + len(self.confirmed)
        super().__init__(
            f"{practitioner_id} has {total} live booking{'s' if total != 1 else ''} "
            f"({', '.join(c for c in counts if c)}): {'; '.join(w for w in what_to_do if w)}; "
            "then remove them again."
        )


class ClientBookingsAhead(BookingError):
    """A client's details are not erased while bookings of theirs are still to come: their e-mails
    (a cancellation, a refund) would have nowhere to go."""

    code = "client_bookings_ahead"

    def __init__(self, booking_ids: Sequence[str]) -> None:
        self.booking_ids = tuple(booking_ids)
        super().__init__(
            f"{len(self.booking_ids)} booking{'s' if len(self.booking_ids) != 1 else ''} of this client "
            f"{'are' if len(self.booking_ids) != 1 else 'is'} still to come ({', '.join(self.booking_ids)}): "
            "cancel them first (`booking bookings cancel ID`), then erase again."
        )


class Unauthenticated(BookingError):
    """No valid sign-in came with the request: no session or API token, or an unknown, expired or
    revoked one, or a used sign-in link. Says nothing of which (or whether the practitioner exists)."""

    code = "unauthenticated"


class TimeOffConflicts(BookingError):
    """Time off cannot cover live bookings: they are to be cancelled first. `booking_ids` names
    every one in the way, earliest first."""

    code = "time_off_conflicts"

    def __init__(self, booking_ids: Sequence[str]) -> None:
        self.booking_ids = tuple(booking_ids)
        count = len(self.booking_ids)
        super().__init__(
            f"This time off overlaps {count} live booking{'s' if count != 1 else ''} "
            f"({', '.join(self.booking_ids)}): cancel {'them' if count != 1 else 'it'} first, "
            "then add the time off again."
        )


class IllegalTransition(BookingError):
    code = "illegal_transition"


class SessionStarted(IllegalTransition):
    """A session that has started took place: neither the client nor the practitioner asking
    can call it off any more."""

    code = "session_started"

    def __init__(self) -> None:
        super().__init__("A session that has started can no longer be cancelled.")


class RescheduleNotAllowed(IllegalTransition):
    """The client may not move this booking (too late, moved too often, or not a live booking);
    the message says which. Nothing changed."""

    code = "reschedule_not_allowed"


class SessionNotOver(IllegalTransition):
    """Attendance (completed, no-show) is recorded once the session has ended, not before."""

    code = "session_not_over"

    def __init__(self) -> None:
        super().__init__("The session has not ended yet; mark a no-show once it is over.")


class AttendanceWindowClosed(IllegalTransition):
    """A no-show is marked, or taken back, within a set time after the session's end."""

    code = "no_show_window_closed"

    def __init__(self, window: timedelta) -> None:
        super().__init__(
            f"A no-show can be marked or taken back up to {window.days} days after the session's end."
        )


class SessionNotHeld(IllegalTransition):
    """Only a confirmed session (completed, or a no-show already) can be marked as attended or not."""

    code = "session_not_held"

    def __init__(self, status: str) -> None:
        super().__init__(
            "Only a confirmed session can be marked as a no-show; "
            f"this booking is {status.replace('_', ' ')}."
        )


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


class TooManyFreeBookings(TooManyHolds):
    """A new free booking would exceed the cap of live free bookings a client may have with one
    practitioner (booking_core.hold_limits.FreeBookingCaps); `limit` names the cap ("email",
    "phone" or "client_address")."""

    code = "too_many_free_bookings"


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
