"""A booking, its status, the one transition table, and the domain events transitions yield."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from enum import StrEnum

from attrs import evolve, frozen

from booking_core.client import ClientDetails
from booking_core.errors import IllegalTransition, InvalidCancelToken
from booking_core.money import Money
from booking_core.timerange import TimeRange


class BookingStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    CONFIRMED = "confirmed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REFUND_DUE = "refund_due"
    REFUNDED = "refunded"


class Trigger(StrEnum):
    """What happened to a booking; each transition is named by one."""

    HOLD_PLACED = "hold_placed"
    PAYMENT_CONFIRMED = "payment_confirmed"
    HOLD_RELEASED = "hold_released"
    CANCELLED = "cancelled"
    LATE_PAYMENT_REFUND_DUE = "late_payment_refund_due"
    REFUND_ISSUED = "refund_issued"
    # refunds nobody here asked for (made in the Stripe Dashboard): in full, or in part
    REFUNDED_OUTSIDE = "refunded_outside"
    PARTIAL_REFUND_RECORDED = "partial_refund_recorded"


S, T = BookingStatus, Trigger

# The whole state machine. A (status, trigger) pair not listed is illegal, except that re-applying
# a trigger to the status it leads to is a no-op (see IDEMPOTENT).
TRANSITIONS: dict[tuple[BookingStatus, Trigger], BookingStatus] = {
    (S.PENDING_PAYMENT, T.PAYMENT_CONFIRMED): S.CONFIRMED,
    (S.PENDING_PAYMENT, T.HOLD_RELEASED): S.EXPIRED,
    (S.PENDING_PAYMENT, T.CANCELLED): S.CANCELLED,
    (S.CONFIRMED, T.CANCELLED): S.CANCELLED,
    # a payment that arrives after the hold lapsed: the slot was still free ...
    (S.EXPIRED, T.PAYMENT_CONFIRMED): S.CONFIRMED,
    # ... or it was taken (or the client had cancelled): the money goes back
    (S.EXPIRED, T.LATE_PAYMENT_REFUND_DUE): S.REFUND_DUE,
    (S.CANCELLED, T.LATE_PAYMENT_REFUND_DUE): S.REFUND_DUE,
    (S.REFUND_DUE, T.REFUND_ISSUED): S.REFUNDED,
    # a cancelled paid booking records its refund and stays cancelled
    (S.CANCELLED, T.REFUND_ISSUED): S.CANCELLED,
    # the practitioner refunded the client in full outside this service: the booking is called off;
    # a part of it refunded leaves the booking standing, recorded
    (S.CONFIRMED, T.REFUNDED_OUTSIDE): S.CANCELLED,
    (S.CONFIRMED, T.PARTIAL_REFUND_RECORDED): S.CONFIRMED,
}

IDEMPOTENT: dict[Trigger, frozenset[BookingStatus]] = {
    T.PAYMENT_CONFIRMED: frozenset({S.CONFIRMED}),
    T.HOLD_RELEASED: frozenset({S.EXPIRED}),
    T.CANCELLED: frozenset({S.CANCELLED}),
    T.LATE_PAYMENT_REFUND_DUE: frozenset({S.REFUND_DUE, S.REFUNDED}),
    T.REFUND_ISSUED: frozenset({S.REFUNDED}),
    T.REFUNDED_OUTSIDE: frozenset({S.CANCELLED}),
}

# The triggers that call a booking off: what clients, practitioners and subscribers hear of as a
# cancellation, whoever made it.
CANCELLATIONS = frozenset({T.CANCELLED, T.REFUNDED_OUTSIDE})

LIVE_STATUSES = frozenset({S.PENDING_PAYMENT, S.CONFIRMED})


@frozen
class BookingEvent:
    """One transition, for the append-only history: what, when and why."""

    booking_id: str
    trigger: Trigger
    from_status: BookingStatus | None
    to_status: BookingStatus
    at: datetime
    reason: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@frozen
class Booking:
    id: str
    practitioner_id: str
    slot: TimeRange
    occupied: TimeRange  # the slot plus buffers: what the no-overlap rule compares
    client: ClientDetails
    client_timezone: str
    price: Money
    status: BookingStatus
    hold_expires_at: datetime
    cancel_token_hash: str
    created_at: datetime
    updated_at: datetime
    version: int = 1
    idempotency_key: str | None = None
    checkout_session_id: str | None = None
    checkout_url: str | None = None
    payment_intent_id: str | None = None
    amount_paid: Money | None = None
    refund_owed: Money | None = None  # money that must go back; settled once refund_id is set
    refund_id: str | None = None
    amount_refunded: Money | None = None
    calendar_uid: str | None = None  # the booking's id in an external calendar (Cal.com)
    # Set when the booking left pending payment without the provider's word that its checkout is
    # closed unpaid (a lapsed hold released by the store, a cancellation, the provider unreachable):
    # the client may have paid and the webhook be lost, so reconciliation asks until it knows.
    payment_check_due: bool = False
    # The network the hold was requested from (booking_core.hold_limits.client_network), for the
    # per-address cap: personal data, so kept only while the hold is pending (`apply` erases it).
    client_address: str | None = None
    # With an idempotency key: the SHA-256 of the request that made the booking
    # (BookingRequest.fingerprint), so that only the same request replays it.
    request_hash: str | None = None

    @classmethod
    def hold(
        cls,
        *,
        booking_id: str,
        practitioner_id: str,
        slot: TimeRange,
        occupied: TimeRange,
        client: ClientDetails,
        client_timezone: str,
        price: Money,
        hold_expires_at: datetime,
        cancel_token: str,
        now: datetime,
        idempotency_key: str | None = None,
        client_address: str | None = None,
        request_hash: str | None = None,
    ) -> tuple[Booking, BookingEvent]:
        booking = cls(
            id=booking_id,
            practitioner_id=practitioner_id,
            slot=slot,
            occupied=occupied,
            client=client,
            client_timezone=client_timezone,
            price=price,
            status=S.PENDING_PAYMENT,
            hold_expires_at=hold_expires_at,
            cancel_token_hash=hash_token(cancel_token),
            created_at=now,
            updated_at=now,
            idempotency_key=idempotency_key,
            client_address=client_address,
            request_hash=request_hash,
        )
        event = BookingEvent(booking_id, T.HOLD_PLACED, None, S.PENDING_PAYMENT, now, "slot held for payment")
        return booking, event

    def is_live(self, now: datetime) -> bool:
        """Live bookings keep their slot: confirmed ones, and pending ones whose hold has not lapsed."""
        if self.status is S.CONFIRMED:
            return True
        return self.status is S.PENDING_PAYMENT and self.hold_expires_at > now

    def is_ahead(self, now: datetime) -> bool:
        """Still to come: a hold that has not lapsed, or a confirmed session not yet over. A
        practitioner with such bookings stays in the directory (the same rule as
        `booking_adapters.sql.directory`'s removal query)."""
        if self.status is S.CONFIRMED:
            return self.slot.end > now
        return self.is_live(now)

    def cancel_token_matches(self, token: str) -> bool:
        return hmac.compare_digest(self.cancel_token_hash, hash_token(token))

    def require_cancel_token(self, token: str) -> None:
        """Refuse `token` unless it is this booking's cancel link (the one check every caller makes)."""
        if not self.cancel_token_matches(token):
            raise InvalidCancelToken("This cancel link is not valid for this booking.")

    def apply(
        self, trigger: Trigger, *, at: datetime, reason: str, **changes: object
    ) -> tuple[Booking, BookingEvent | None]:
        """The booking after `trigger`, and the event it yields; `(self, None)` for a repeat."""
        if self.status in IDEMPOTENT.get(trigger, frozenset()) and (self.status, trigger) not in TRANSITIONS:
            return self, None
        target = TRANSITIONS.get((self.status, trigger))
        if target is None:
            raise IllegalTransition(f"a {self.status} booking cannot take {trigger}")
        if target is not S.PENDING_PAYMENT:  # the address served the hold's cap only
            changes = {"client_address": None} | changes
        after = evolve(self, status=target, updated_at=at, version=self.version + 1, **changes)  # type: ignore[arg-type]
        return after, BookingEvent(self.id, trigger, self.status, target, at, reason)

    def with_details(self, at: datetime, **changes: object) -> Booking:
        """A change of payment references that is not a transition (e.g. the checkout session)."""
        return evolve(self, updated_at=at, version=self.version + 1, **changes)  # type: ignore[arg-type]
