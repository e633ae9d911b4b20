"""A booking, its status, the one transition table, and the domain events transitions yield."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum

from attrs import evolve, frozen

from booking_core.client import ClientDetails
from booking_core.errors import (
    AttendanceWindowClosed,
    IllegalTransition,
    InvalidCancelToken,
    RescheduleNotAllowed,
    SessionNotHeld,
    SessionNotOver,
    SessionStarted,
)
from booking_core.money import Money
from booking_core.offer import (
    DEFAULT_SERVICE_ID,
    DEFAULT_SERVICE_NAME,
    CancellationPolicy,
    Offer,
    duration_in_words,
)
from booking_core.payment import CheckoutSession, ReceivedPayment
from booking_core.timerange import TimeRange


class BookingStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    CONFIRMED = "confirmed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REFUND_DUE = "refund_due"
    REFUNDED = "refunded"
    # after the session: it took place (set once its slot ended), or the client did not come
    COMPLETED = "completed"
    NO_SHOW = "no_show"


class Trigger(StrEnum):
    """What happened to a booking; each transition is named by one."""

    HOLD_PLACED = "hold_placed"
    # a booking with nothing to pay (a free service): confirmed as it is made, no payment step
    BOOKED_FREE = "booked_free"
    PAYMENT_CONFIRMED = "payment_confirmed"
    HOLD_RELEASED = "hold_released"
    CANCELLED = "cancelled"
    LATE_PAYMENT_REFUND_DUE = "late_payment_refund_due"
    REFUND_ISSUED = "refund_issued"
    # refunds nobody here asked for (made in the Stripe Dashboard): in full, or in part
    REFUNDED_OUTSIDE = "refunded_outside"
    PARTIAL_REFUND_RECORDED = "partial_refund_recorded"
    # the booking moved to another time of the same service (same id, same payment)
    RESCHEDULED = "rescheduled"
    # after the session: housekeeping records that it took place once its slot ended; the
    # practitioner may say the client did not come, and take that back (ATTENDANCE_WINDOW)
    COMPLETED = "completed"
    NO_SHOW_MARKED = "no_show_marked"
    NO_SHOW_UNDONE = "no_show_undone"


S, T = BookingStatus, Trigger

# The whole state machine. A (status, trigger) pair not listed is illegal, except that re-applying
# a trigger to the status it leads to is a no-op (see IDEMPOTENT). A status of None is a booking's
# beginning (`Booking.hold`).
TRANSITIONS: dict[tuple[BookingStatus | None, Trigger], BookingStatus] = {
    (None, T.HOLD_PLACED): S.PENDING_PAYMENT,
    (None, T.BOOKED_FREE): S.CONFIRMED,
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
    # a move keeps the status: a held booking stays held (until its hold lapses), a confirmed one confirmed
    (S.PENDING_PAYMENT, T.RESCHEDULED): S.PENDING_PAYMENT,
    (S.CONFIRMED, T.RESCHEDULED): S.CONFIRMED,
    # after the session's end (Booking.complete, mark_no_show, undo_no_show): a no-show marked before
    # housekeeping came by skips `completed`; undone, it is what it would have been
    (S.CONFIRMED, T.COMPLETED): S.COMPLETED,
    (S.CONFIRMED, T.NO_SHOW_MARKED): S.NO_SHOW,
    (S.COMPLETED, T.NO_SHOW_MARKED): S.NO_SHOW,
    (S.NO_SHOW, T.NO_SHOW_UNDONE): S.COMPLETED,
    # a refund after the session (a goodwill refund in the Stripe Dashboard) is recorded, in part or
    # in full; the session took place, or was missed, all the same
    (S.COMPLETED, T.PARTIAL_REFUND_RECORDED): S.COMPLETED,
    (S.NO_SHOW, T.PARTIAL_REFUND_RECORDED): S.NO_SHOW,
}

IDEMPOTENT: dict[Trigger, frozenset[BookingStatus]] = {
    T.PAYMENT_CONFIRMED: frozenset({S.CONFIRMED}),
    T.HOLD_RELEASED: frozenset({S.EXPIRED}),
    T.CANCELLED: frozenset({S.CANCELLED}),
    T.LATE_PAYMENT_REFUND_DUE: frozenset({S.REFUND_DUE, S.REFUNDED}),
    T.REFUND_ISSUED: frozenset({S.REFUNDED}),
    T.REFUNDED_OUTSIDE: frozenset({S.CANCELLED}),
    # housekeeping racing the practitioner's no-show: whichever came first stands
    T.COMPLETED: frozenset({S.COMPLETED, S.NO_SHOW}),
    T.NO_SHOW_MARKED: frozenset({S.NO_SHOW}),
    T.NO_SHOW_UNDONE: frozenset({S.COMPLETED}),
}

# The triggers that call a booking off: what clients, practitioners and subscribers hear of as a
# cancellation, whoever made it.
CANCELLATIONS = frozenset({T.CANCELLED, T.REFUNDED_OUTSIDE})
# The triggers that confirm a booking the first time: what clients, practitioners and subscribers
# hear of as a confirmation (e-mails, webhooks, the Cal.com write-back), paid or free.
CONFIRMATIONS = frozenset({T.PAYMENT_CONFIRMED, T.BOOKED_FREE})

LIVE_STATUSES = frozenset({S.PENDING_PAYMENT, S.CONFIRMED})
# The sessions that were held (or due to be, and missed): what attendance is recorded of.
ATTENDED_STATUSES = frozenset({S.CONFIRMED, S.COMPLETED, S.NO_SHOW})

# How long after a session's end the practitioner may mark it a no-show, or take that back.
ATTENDANCE_WINDOW = timedelta(days=7)


def claims_a_span(before: Booking, after: Booking) -> bool:
    """Whether saving `after` over `before` claims time the booking did not hold: it becomes live
    again (a late payment), or it is live and its occupied span moved (a reschedule). A store
    checks such a save as it checks a new booking (BookingStore.save)."""
    if after.status not in LIVE_STATUSES:
        return False
    return before.status not in LIVE_STATUSES or after.occupied != before.occupied


# The reason recorded when a hold runs out unpaid, whoever releases it (the service, or a store on a write).
LAPSED_HOLD = "hold lapsed"


@frozen
class BookingEvent:
    """One transition, for the append-only history: what, when and why."""

    booking_id: str
    trigger: Trigger
    from_status: BookingStatus | None
    to_status: BookingStatus
    at: datetime
    reason: str
    # a move (RESCHEDULED): the slot before and after it; None for every other trigger
    moved_from: TimeRange | None = None
    moved_to: TimeRange | None = None


CLIENT_CANCELLED = "cancelled by the client"
"""The reason of a client's cancellation (theirs to know: their own e-mail does not repeat it)."""


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
    # per-address caps: personal data, so kept only while the hold is pending or, for a free booking,
    # until its first transition (which erases it).
    client_address: str | None = None
    # With an idempotency key: the SHA-256 of the request that made the booking
    # (BookingRequest.fingerprint), so that only the same request replays it.
    request_hash: str | None = None
    # The service booked, as it was then (its length is the slot's, its price `price`): a service
    # renamed or removed later leaves the booking as it was made.
    service_id: str = DEFAULT_SERVICE_ID
    service_name: str = DEFAULT_SERVICE_NAME
    # How many times the booking moved (RESCHEDULED), by anyone: the client's moves are capped by
    # the practitioner's ReschedulePolicy; calendar invites use it to order their versions.
    reschedule_count: int = 0
    # The Checkout Sessions a move of the unpaid hold replaced (oldest first), each closed by the
    # move or lapsing by itself: a payment made there still counts for the booking (it confirms
    # it, or goes back as a second payment); their closing says nothing of the booking.
    replaced_checkouts: tuple[str, ...] = ()

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
        service_id: str = DEFAULT_SERVICE_ID,
        service_name: str = DEFAULT_SERVICE_NAME,
    ) -> tuple[Booking, BookingEvent]:
        """A new booking of `slot`: held for payment until `hold_expires_at` (HOLD_PLACED), or,
        with nothing to pay (a free service), a hold confirmed at once (BOOKED_FREE) that waits
        for nothing: its `hold_expires_at` is `now`."""
        free = price.amount == 0
        trigger, reason = (
            (T.BOOKED_FREE, "free service: confirmed without payment")
            if free
            else (T.HOLD_PLACED, "slot held for payment")
        )
        status = TRANSITIONS[(None, trigger)]
        booking = cls(
            id=booking_id,
            practitioner_id=practitioner_id,
            slot=slot,
            occupied=occupied,
            client=client,
            client_timezone=client_timezone,
            price=price,
            status=status,
            hold_expires_at=now if free else hold_expires_at,
            cancel_token_hash=hash_token(cancel_token),
            created_at=now,
            updated_at=now,
            idempotency_key=idempotency_key,
            client_address=client_address,
            request_hash=request_hash,
            service_id=service_id,
            service_name=service_name,
        )
        return booking, BookingEvent(booking_id, trigger, None, status, now, reason)

    @property
    def is_free(self) -> bool:
        """Nothing to pay: no checkout, nothing to refund."""
        return self.price.amount == 0

    def is_live(self, now: datetime) -> bool:
        """Live bookings keep their slot: confirmed ones, and pending ones whose hold has not lapsed."""
        if self.status is S.CONFIRMED:
            return True
        return self.status is S.PENDING_PAYMENT and self.hold_expires_at > now

    def is_ahead(self, now: datetime) -> bool:
        """Still to come: a hold that has not lapsed, or a confirmed session not yet over. A
        practitioner with such bookings stays in the directory (in SQL:
        `booking_adapters.sql.conditions.ahead_at`, as `is_live` is `live_at`)."""
        if self.status is S.CONFIRMED:
            return self.slot.end > now
        return self.is_live(now)

    def cancel_token_matches(self, token: str) -> bool:
        return hmac.compare_digest(self.cancel_token_hash, hash_token(token))

    def require_cancel_token(self, token: str) -> None:
        """Refuse `token` unless it is this booking's cancel link (the one check every caller makes)."""
        if not self.cancel_token_matches(token):
            raise InvalidCancelToken("This cancel link is not valid for this booking.")

    # -- transitions: each goes through TRANSITIONS, yields its event, `(self, None)` for a repeat --

    def confirm_payment(self, payment: ReceivedPayment, *, at: datetime, reason: str) -> Transition:
        """The payment arrived while the hold stood, or late with the slot still free."""
        return self._transition(T.PAYMENT_CONFIRMED, at, reason, self._with_payment(payment))

    def owe_late_refund(self, payment: ReceivedPayment, *, at: datetime, reason: str) -> Transition:
        """A payment that cannot buy the slot (taken, cancelled, or the wrong amount) is owed back."""

        def owing(booking: Booking) -> Booking:
            return evolve(self._with_payment(payment)(booking), refund_owed=payment.amount)

        return self._transition(T.LATE_PAYMENT_REFUND_DUE, at, reason, owing)

    def release(self, *, at: datetime, reason: str, check_due: bool = False) -> Transition:
        """The hold ends unpaid. `check_due`: without the provider's word that its checkout is
        closed unpaid, so reconciliation asks again (see `payment_check_due`)."""
        return self._transition(
            T.HOLD_RELEASED, at, reason, lambda booking: evolve(booking, payment_check_due=check_due)
        )

    def cancel_by_client(self, *, at: datetime, policy: CancellationPolicy) -> Transition:
        """The client calls the booking off, until the session starts, and gets back what the
        practitioner's `policy` grants for the notice given (less what was refunded already)."""
        self._refuse_if_started(at)
        return self._cancel(at, CLIENT_CANCELLED, self._refund_by(policy, at))

    def cancel_by_practitioner(self, *, at: datetime, reason: str, after_start: bool = True) -> Transition:
        """The practitioner calls the booking off: every cent paid goes back, whatever their
        cancellation policy says (less what was refunded already). `after_start=False` when they
        or an operator ask (the API, `booking bookings cancel`): a session that has started took
        place, as for the client; only a conflict found late (the Cal.com write-back) calls one off then."""
        if not after_start:
            self._refuse_if_started(at)
        return self._cancel(at, reason, self._not_yet_refunded(self.amount_paid))

    def _refuse_if_started(self, at: datetime) -> None:
        if self.status is S.CONFIRMED and at >= self.slot.start:
            raise SessionStarted()

    def reschedule(
        self,
        slot: TimeRange,
        *,
        offer: Offer,
        at: datetime,
        reason: str,
        by_practitioner: bool,
        checkout: CheckoutSession | None = None,
    ) -> Transition:
        """Move the booking to `slot` of the same service (its `offer`, whose buffers give the new
        occupied span): same id, same payment. An unpaid hold's move replaces its checkout with
        `checkout`, which names the new time (the replaced one goes to `replaced_checkouts`); a paid
        booking's keeps its own. A live booking only, and not once its session started. The client
        must give the practitioner's reschedule notice before the current start and may move at
        most `max_moves` times; the practitioner is bound by neither.
        Raises RescheduleNotAllowed (nothing changes); whether `slot` is free is the store's to say."""
        if not self.is_live(at):
            raise RescheduleNotAllowed(f"A {self.status.replace('_', ' ')} booking cannot be moved.")
        if at >= self.slot.start:
            raise RescheduleNotAllowed("A session that has started can no longer be moved.")
        if slot.end - slot.start != self.slot.end - self.slot.start:
            raise RescheduleNotAllowed("A booking moves to a time of the same length.")
        if not by_practitioner:
            policy = offer.rescheduling
            notice = policy.notice_under(offer.cancellation)
            if self.slot.start - at < notice:
                raise RescheduleNotAllowed(
                    f"Sessions can be moved up to {duration_in_words(notice)} before they start; "
                    "please contact the practitioner."
                )
            if self.reschedule_count >= policy.max_moves:
                times = "once" if self.reschedule_count == 1 else f"{self.reschedule_count} times"
                raise RescheduleNotAllowed(
                    "Sessions cannot be moved online; please contact the practitioner."
                    if policy.max_moves == 0
                    else f"This session was moved {times} already, the most allowed; "
                    "please contact the practitioner."
                )
        if slot == self.slot:
            return self, None
        moved, event = self._transition(
            T.RESCHEDULED,
            at,
            reason,
            lambda booking: _with_checkout(
                evolve(
                    booking,
                    slot=slot,
                    occupied=offer.occupied(slot),
                    reschedule_count=booking.reschedule_count + 1,
                ),
                checkout,
            ),
        )
        return moved, event and evolve(event, moved_from=self.slot, moved_to=slot)

    def complete(self, *, at: datetime) -> Transition:
        """The session's slot ended: it took place (housekeeping records it; a no-show stays one)."""
        if at < self.slot.end:
            raise SessionNotOver()
        return self._transition(T.COMPLETED, at, "the session ended", _unchanged)

    def mark_no_show(self, *, at: datetime) -> Transition:
        """The practitioner says the client did not come: after the end, within ATTENDANCE_WINDOW."""
        self._require_attendance_window(at)
        return self._transition(T.NO_SHOW_MARKED, at, "the client did not come", _unchanged)

    def undo_no_show(self, *, at: datetime) -> Transition:
        """The practitioner takes a no-show back (within the same window): the session took place."""
        self._require_attendance_window(at)
        return self._transition(
            T.NO_SHOW_UNDONE, at, "no-show taken back: the session took place", _unchanged
        )

    def _require_attendance_window(self, at: datetime) -> None:
        if self.status not in ATTENDED_STATUSES:
            raise SessionNotHeld(self.status)
        if at < self.slot.end:
            raise SessionNotOver()
        if at > self.slot.end + ATTENDANCE_WINDOW:
            raise AttendanceWindowClosed(ATTENDANCE_WINDOW)

    def record_refund(self, *, refund_id: str, amount: Money | None, at: datetime, reason: str) -> Transition:
        """The refund this booking owed went out (`amount`: everything refunded of its payment)."""
        return self._transition(
            T.REFUND_ISSUED,
            at,
            reason,
            lambda booking: evolve(booking, refund_id=refund_id, amount_refunded=amount),
        )

    def refunded_outside(self, total: Money, *, refund_id: str | None, at: datetime) -> Transition:
        """The payment went back in full without us (the Stripe Dashboard): the booking is called off."""
        return self._transition(
            T.REFUNDED_OUTSIDE,
            at,
            "refunded in full at the payment provider (e.g. the Stripe Dashboard)",
            lambda booking: evolve(booking, refund_id=refund_id or booking.refund_id, amount_refunded=total),
        )

    def record_partial_refund(self, total: Money, *, at: datetime) -> Transition:
        """Part of the payment went back without us (`total` so far); the booking stands."""
        return self._transition(
            T.PARTIAL_REFUND_RECORDED,
            at,
            f"{total} of {self.amount_paid} refunded at the payment provider; the booking stands",
            lambda booking: evolve(booking, amount_refunded=total),
        )

    # -- changes that are not transitions (no event) ---------------------------------------------

    def attach_checkout(self, session: CheckoutSession, *, at: datetime) -> Booking:
        return evolve(self._touched(at), checkout_session_id=session.id, checkout_url=session.url)

    def record_calendar_uid(self, uid: str, *, at: datetime) -> Booking:
        return evolve(self._touched(at), calendar_uid=uid)

    def clear_payment_check(self, *, at: datetime) -> Booking:
        """The provider has answered about the checkout: nothing more to ask (unchanged if nothing was)."""
        return evolve(self._touched(at), payment_check_due=False) if self.payment_check_due else self

    # -- money ------------------------------------------------------------------------------------

    def refunded_with(self, refund: Money) -> Money:
        """Everything refunded of the booking's payment once `refund` is added."""
        before = self.amount_refunded
        if before is None or before.currency != refund.currency:
            return refund
        return Money(before.amount + refund.amount, refund.currency)

    def _cancel(self, at: datetime, reason: str, owed: Money | None) -> Transition:
        # A checkout still open may have been paid without our knowing yet: keep asking the provider.
        check_due = self.payment_check_due or (
            self.status is S.PENDING_PAYMENT and self.checkout_session_id is not None
        )
        return self._transition(
            T.CANCELLED,
            at,
            reason,
            lambda booking: evolve(booking, refund_owed=owed, payment_check_due=check_due),
        )

    def _refund_by(self, policy: CancellationPolicy, at: datetime) -> Money | None:
        paid = self.amount_paid
        if paid is None:
            return None
        return self._not_yet_refunded(policy.refund_for(paid, self.slot.start - at))

    def _not_yet_refunded(self, owed: Money | None) -> Money | None:
        """`owed` less what went back already (in part, in the Stripe Dashboard): never owed twice."""
        if owed is None or self.amount_paid is None:
            return None
        refunded = self.amount_refunded
        if refunded is not None and refunded.currency == owed.currency:
            owed = Money(max(0, min(owed.amount, self.amount_paid.amount - refunded.amount)), owed.currency)
        return owed if owed.amount else None

    def _with_payment(self, payment: ReceivedPayment) -> Callable[[Booking], Booking]:
        def paid(booking: Booking) -> Booking:
            return evolve(
                booking,
                amount_paid=payment.amount,
                payment_intent_id=payment.payment_intent_id or booking.payment_intent_id,
                checkout_session_id=booking.checkout_session_id or payment.checkout_session_id,
                payment_check_due=False,  # the payment is known now
            )

        return paid

    def _transition(
        self, trigger: Trigger, at: datetime, reason: str, changes: Callable[[Booking], Booking]
    ) -> Transition:
        if self.status in IDEMPOTENT.get(trigger, frozenset()) and (self.status, trigger) not in TRANSITIONS:
            return self, None
        target = TRANSITIONS.get((self.status, trigger))
        if target is None:
            raise IllegalTransition(f"a {self.status} booking cannot take {trigger}")
        # the address served the hold's cap only: personal data, gone once the hold ends
        address = self.client_address if target is S.PENDING_PAYMENT else None
        moved = evolve(self, status=target, updated_at=at, version=self.version + 1, client_address=address)
        return changes(moved), BookingEvent(self.id, trigger, self.status, target, at, reason)

    def _touched(self, at: datetime) -> Booking:
        return evolve(self, updated_at=at, version=self.version + 1)


Transition = tuple[Booking, BookingEvent | None]


def _with_checkout(booking: Booking, checkout: CheckoutSession | None) -> Booking:
    """`booking` paying through `checkout` from now on, if given, its checkout until then replaced."""
    unpaid = booking.status is S.PENDING_PAYMENT
    if checkout is None or not unpaid or checkout.id == booking.checkout_session_id:
        return booking  # (paid meanwhile: the payment is made, nothing to replace)
    replaced = (booking.checkout_session_id,) if booking.checkout_session_id else ()
    return evolve(
        booking,
        checkout_session_id=checkout.id,
        checkout_url=checkout.url,
        replaced_checkouts=booking.replaced_checkouts + replaced,
    )


def _unchanged(booking: Booking) -> Booking:
    """A transition that changes the status alone."""
    return booking
