"""The use cases. Each takes its ports from the service and returns domain objects or outcomes."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum

from attrs import define, field, frozen

from booking_core.availability import (
    Availability,
    AvailabilitySourceName,
    bookable_window,
    free_slots,
)
from booking_core.booking import Booking, BookingEvent, BookingStatus, Transition
from booking_core.client import ClientDetails
from booking_core.errors import (
    ConcurrentUpdate,
    IdempotencyKeyReused,
    IllegalTransition,
    InvalidInput,
    NotFound,
    PaymentProviderError,
    SlotUnavailable,
    TooManyHolds,
    UnknownPractitioner,
)
from booking_core.hold_limits import HoldLimits, client_network
from booking_core.offer import Practitioner
from booking_core.payment import CheckoutRequest, PaymentEvent, PaymentEventKind, ReceivedPayment
from booking_core.payment_decision import (
    AwaitPayment,
    Confirm,
    Duplicate,
    EndPaymentCheck,
    LearnPaymentFirst,
    PaymentDecision,
    RecordPartialRefund,
    RecordRefund,
    RefundedOutside,
    RefundLatePayment,
    Refuse,
    Release,
    decide,
    decide_payment,
    decide_refund,
    refusal,
)
from booking_core.ports import (
    AvailabilitySource,
    BookingChangeListener,
    BookingStore,
    Clock,
    IdGenerator,
    PaymentGateway,
    PractitionerDirectory,
)
from booking_core.schedule import zone
from booking_core.start_time import start_time_problem
from booking_core.timerange import TimeRange

log = logging.getLogger(__name__)

MAX_AVAILABILITY_WINDOW = timedelta(days=62)
_SAVE_ATTEMPTS = 5

Step = Callable[[Booking], Transition]


class PaymentOutcome(StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"  # refunded in full outside this service (the Stripe Dashboard)
    REFUSED = "refused"  # contradicts the booking (another checkout session, no amount): not applied
    AWAITING_PAYMENT = "awaiting_payment"  # checkout completed, money not yet in (async methods)
    RELEASED = "released"
    REFUND_REQUESTED = "refund_requested"
    REFUND_RECORDED = "refund_recorded"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


@frozen
class BookingRequest:
    practitioner_id: str
    start: datetime
    name: str
    email: str
    phone: str
    timezone: str | None = None  # the client's, for messages; defaults to the practitioner's
    idempotency_key: str | None = None
    client_address: str | None = None  # the requester's IP address, for the per-address hold cap

    def fingerprint(self) -> str:
        """The SHA-256 of what was asked for (every field but the key and the address, as given): an
        Idempotency-Key replays a booking only for a request with the same fingerprint. Built from
        the parsed fields, so the body's key order and whitespace do not matter."""
        asked = [
            self.practitioner_id,
            self.start.isoformat(),
            self.name,
            self.email,
            self.phone,
            self.timezone,
        ]
        return hashlib.sha256(json.dumps(asked, ensure_ascii=False).encode()).hexdigest()


_KEY_REUSED = (
    "This Idempotency-Key was used for a different booking request. Send a new random key "
    "(e.g. a UUID4) with each new booking; repeat a key only to retry the same request unchanged."
)


@frozen
class BookingHold:
    """A new (or idempotently replayed) booking, with what only its creator may know."""

    booking: Booking
    cancel_token: str
    practitioner: Practitioner  # as read for this request (callers need not read it again)


@frozen
class ReconcileReport:
    holds_checked: int
    confirmed: int
    released: int
    refunds_issued: int
    payments_checked: int = 0  # bookings released without the provider's word, asked about


@define
class BookingService:
    directory: PractitionerDirectory
    store: BookingStore
    availability: AvailabilitySource
    payments: PaymentGateway
    notifier: BookingChangeListener
    clock: Clock
    ids: IdGenerator
    max_window: timedelta = MAX_AVAILABILITY_WINDOW
    hold_limits: HoldLimits = field(factory=HoldLimits)

    # -- reading -------------------------------------------------------------------------------

    async def practitioner(self, practitioner_id: str) -> Practitioner:
        """A practitioner who can be booked (not removed)."""
        practitioner = await self.directory.get(practitioner_id)
        if practitioner is None:
            raise UnknownPractitioner(practitioner_id)
        return practitioner

    async def practitioner_of(self, booking: Booking) -> Practitioner:
        """The booking's practitioner, even if removed since: their past bookings still name them."""
        practitioner = await self.directory.get(booking.practitioner_id, include_removed=True)
        if practitioner is None:
            raise UnknownPractitioner(booking.practitioner_id)
        return practitioner

    async def booking(self, booking_id: str) -> Booking:
        booking = await self.store.get(booking_id)
        if booking is None:
            raise NotFound("There is no such booking.")
        return booking

    async def list_availability(self, practitioner_id: str, window: TimeRange) -> Availability:
        if window.duration > self.max_window:
            raise InvalidInput({"end": f"A range may span at most {self.max_window.days} days."})
        practitioner = await self.practitioner(practitioner_id)
        slots, source = await self._free_slots(practitioner, window, fresh=False)
        return Availability(practitioner_id, window, tuple(slots), source)

    async def _free_slots(
        self, practitioner: Practitioner, window: TimeRange, *, fresh: bool, with_bookings: bool = True
    ) -> tuple[list[TimeRange], AvailabilitySourceName]:
        """The slots offered in `window`, minus those live bookings occupy (unless `with_bookings`
        is false: then only what the source offers within notice and horizon)."""
        now = self.clock.now()
        offer = practitioner.offer
        allowed = bookable_window(offer, window, now)
        if allowed is None:
            default = (
                AvailabilitySourceName.CALCOM
                if practitioner.calcom_event_type_id
                else AvailabilitySourceName.SCHEDULE
            )
            return [], default
        candidates = await self.availability.candidate_slots(practitioner, allowed, fresh=fresh)
        if not candidates.starts:
            return [], candidates.source
        reach = TimeRange(
            min(candidates.starts) - offer.buffer_before,
            max(candidates.starts) + candidates.length + offer.buffer_after,
        )
        busy = await self.store.busy(practitioner.id, reach, now) if with_bookings else ()
        return free_slots(candidates, busy, offer, allowed, now), candidates.source

    # -- booking ---------------------------------------------------------------------------------

    async def request_booking(self, request: BookingRequest) -> BookingHold:
        """Validate, check the slot is offered and free, hold it, start checkout."""
        practitioner = await self.practitioner(request.practitioner_id)
        client, client_timezone = _validate(request, practitioner)
        if request.idempotency_key:
            existing = await self.store.find_by_idempotency_key(practitioner.id, request.idempotency_key)
            if existing is not None:
                return self._replay(existing, request, practitioner)
        offer = practitioner.offer
        slot = TimeRange.of(request.start, offer.session_length)
        # Only whether the slot is offered (and how many are, around it, for the practitioner's
        # hold cap): whether it is free, `add_if_free` decides atomically by the same rule
        # (docs/architecture.md), so a read of the live bookings first would be a second round
        # trip to the database for nothing but an earlier refusal.
        around = self.hold_limits.window_around(slot)
        offered, _source = await self._free_slots(practitioner, around, fresh=True, with_bookings=False)
        if slot not in offered:
            raise SlotUnavailable()
        caps = self.hold_limits.caps(len(offered), around, offer.hold_duration)

        now = self.clock.now()
        booking_id = self.ids.new_booking_id()
        booking, event = Booking.hold(
            booking_id=booking_id,
            practitioner_id=practitioner.id,
            slot=slot,
            occupied=offer.occupied(slot),
            client=client,
            client_timezone=client_timezone,
            price=offer.price,
            hold_expires_at=now + offer.hold_duration,
            cancel_token=self.ids.cancel_token(booking_id),
            now=now,
            idempotency_key=request.idempotency_key,
            client_address=client_network(request.client_address),
            request_hash=request.fingerprint() if request.idempotency_key else None,
        )
        try:
            await self.store.add_if_free(booking, event, caps)
        except (SlotUnavailable, TooManyHolds):
            if request.idempotency_key:  # a concurrent twin of this very request won the slot
                twin = await self.store.find_by_idempotency_key(practitioner.id, request.idempotency_key)
                if twin is not None:
                    return self._replay(twin, request, practitioner)
            raise
        await self._notify(booking, event, practitioner)

        try:
            session = await self.payments.start_checkout(
                CheckoutRequest(
                    booking_id=booking.id,
                    product_name=_product_name(practitioner, slot),
                    amount=booking.price,
                    customer_email=client.email,
                    expires_at=booking.hold_expires_at,
                    idempotency_key=f"checkout-{booking.id}",
                )
            )
        except PaymentProviderError:
            await self._change(
                booking, lambda b: b.release(at=self.clock.now(), reason="checkout could not start")
            )
            raise
        booking = await self._change(
            booking, lambda b: (b.attach_checkout(session, at=self.clock.now()), None)
        )
        return BookingHold(booking, self.ids.cancel_token(booking.id), practitioner)

    def _replay(self, existing: Booking, request: BookingRequest, practitioner: Practitioner) -> BookingHold:
        """The booking made with this key, to the sender of the very same request only: it carries
        the cancel token. (Bookings stored before request hashes were kept compare the slot.)"""
        if existing.request_hash is not None:
            same = hmac.compare_digest(existing.request_hash, request.fingerprint())
        else:
            same = (
                existing.slot.start == request.start and existing.practitioner_id == request.practitioner_id
            )
        if not same:
            raise IdempotencyKeyReused(_KEY_REUSED)
        return BookingHold(existing, self.ids.cancel_token(existing.id), practitioner)

    # -- payments --------------------------------------------------------------------------------

    async def apply_payment_event(self, event: PaymentEvent) -> PaymentOutcome:
        """Idempotent and order-tolerant: any delivery order of one checkout's events ends the same."""
        if await self.store.is_payment_event_processed(event.id):
            return PaymentOutcome.DUPLICATE
        outcome = await self._apply_payment(event)
        if outcome is PaymentOutcome.REFUSED:
            return outcome  # not recorded: a refused body must not make the genuine event a "duplicate"
        # Recorded after applying: a crash in between means a redelivery, which is a no-op anyway.
        await self.store.mark_payment_event_processed(event.id, self.clock.now())
        return outcome

    async def _apply_payment(self, event: PaymentEvent) -> PaymentOutcome:
        if event.kind is PaymentEventKind.OTHER or event.booking_id is None:
            return PaymentOutcome.IGNORED
        booking = await self.store.get(event.booking_id)
        if booking is None:
            log.warning("payment event %s names unknown booking", event.id)
            return PaymentOutcome.IGNORED
        decision = decide(booking, event)
        if isinstance(decision, Refuse):
            # Ids only: a forged or confused event is worth a look, and carries no personal data here.
            log.warning("payment event %s refused for booking %s: %s", event.id, booking.id, decision.reason)
            return PaymentOutcome.REFUSED
        if isinstance(decision, LearnPaymentFirst):
            booking = await self._learn_payment(booking)
            decision = decide_refund(booking, event)
        return await self._carry_out(booking, decision)

    async def check_checkout(self, booking: Booking, session_id: str | None = None) -> Booking:
        """The client is back from checkout, or looks at a booking still waiting for its payment: ask
        the provider about the booking's checkout and apply a payment it reports through the webhook's
        path, so a lost or late webhook does not keep a paid client waiting. A `session_id` that is
        not the booking's is ignored; so is a provider that cannot answer (the webhook or
        reconciliation still will)."""
        expected = booking.checkout_session_id
        waiting = booking.status is BookingStatus.PENDING_PAYMENT or booking.payment_check_due
        if expected is None or not waiting:
            return booking
        if session_id is not None and not hmac.compare_digest(session_id.encode(), expected.encode()):
            return booking
        try:
            state = await self.payments.checkout_status(expected)
        except PaymentProviderError:
            log.warning("could not ask about the checkout of booking %s", booking.id)
            return booking
        if not state.paid or state.booking_id != booking.id:
            return booking
        await self.apply_payment_event(state)
        return await self.booking(booking.id)

    async def _carry_out(self, booking: Booking, decision: PaymentDecision) -> PaymentOutcome:
        """Carry out what `decide` made of a payment event, through the booking's transitions."""
        match decision:
            case Confirm(payment, reason):
                return await self._confirm(booking, payment, reason)
            case RefundLatePayment(payment, reason):
                if payment.amount != booking.price:
                    log.warning(
                        "booking %s paid %s, expected %s: refunding",
                        booking.id,
                        payment.amount,
                        booking.price,
                    )
                return await self._refund_late_payment(booking, payment, reason)
            case Release(reason):
                return await self._release(booking, reason)
            case EndPaymentCheck():
                await self._clear_payment_check(booking)
            case RecordRefund(reported_id, amount):
                await self._change(
                    booking,
                    lambda b: b.record_refund(
                        refund_id=reported_id,
                        amount=amount,
                        at=self.clock.now(),
                        reason="refund reported by the payment provider",
                    ),
                )
                return PaymentOutcome.REFUND_RECORDED
            case RefundedOutside(refund_id, total):
                await self._change(
                    booking, lambda b: b.refunded_outside(total, refund_id=refund_id, at=self.clock.now())
                )
                return PaymentOutcome.CANCELLED
            case RecordPartialRefund(total):
                await self._change(booking, lambda b: b.record_partial_refund(total, at=self.clock.now()))
                return PaymentOutcome.REFUND_RECORDED
            case AwaitPayment():
                return PaymentOutcome.AWAITING_PAYMENT
            case Duplicate():
                return PaymentOutcome.DUPLICATE
            case Refuse():
                return PaymentOutcome.REFUSED
        return PaymentOutcome.IGNORED

    async def _confirm(self, booking: Booking, payment: ReceivedPayment, reason: str) -> PaymentOutcome:
        try:
            await self._change(
                booking, lambda b: b.confirm_payment(payment, at=self.clock.now(), reason=reason)
            )
        except SlotUnavailable:
            return await self._refund_late_payment(booking, payment, "late payment, slot taken meanwhile")
        except IllegalTransition:
            return PaymentOutcome.IGNORED  # it moved on meanwhile (e.g. refund due); nothing to confirm
        return PaymentOutcome.CONFIRMED

    async def _refund_late_payment(
        self, booking: Booking, payment: ReceivedPayment, reason: str
    ) -> PaymentOutcome:
        booking = await self._change(booking, lambda b: _release_step(b, self.clock.now(), reason))
        try:
            booking = await self._change(
                booking, lambda b: b.owe_late_refund(payment, at=self.clock.now(), reason=reason)
            )
        except IllegalTransition:
            return PaymentOutcome.IGNORED  # e.g. a confirmed booking: its money is where it belongs
        await self._issue_refund(booking)
        return PaymentOutcome.REFUND_REQUESTED

    async def _release(self, booking: Booking, reason: str, *, check_due: bool = False) -> PaymentOutcome:
        if booking.status is not BookingStatus.PENDING_PAYMENT:
            return PaymentOutcome.IGNORED  # e.g. an expiry delivered after the payment
        await self._change(booking, lambda b: _release_step(b, self.clock.now(), reason, check_due))
        return PaymentOutcome.RELEASED

    async def _learn_payment(self, booking: Booking) -> Booking:
        """The refund overtook its payment's webhook (a delivery retried later): learn of the
        payment first. A provider that cannot answer fails this delivery; Stripe sends it again."""
        assert booking.checkout_session_id is not None  # decide asks only then
        state = await self.payments.checkout_status(booking.checkout_session_id)
        if not state.paid or refusal(state, booking) is not None:
            return booking
        await self._carry_out(booking, decide_payment(booking, state))
        return await self.booking(booking.id)

    async def _issue_refund(self, booking: Booking) -> Booking:
        """Send the refund a booking owes; a provider failure leaves it owed for `settle_refunds`."""
        if booking.refund_owed is None or booking.refund_id is not None or booking.payment_intent_id is None:
            return booking
        try:
            refund = await self.payments.refund(
                booking.payment_intent_id, booking.refund_owed, f"refund-{booking.id}", booking.id
            )
        except PaymentProviderError:
            log.warning("refund for booking %s failed; it stays owed and will be retried", booking.id)
            return booking
        return await self._change(
            booking,
            lambda b: (
                b.record_refund(
                    refund_id=refund.id,
                    amount=b.refunded_with(refund.amount),
                    at=self.clock.now(),
                    reason="refund issued",
                )
                if b.refund_id is None
                else (b, None)
            ),
        )

    # -- cancelling ------------------------------------------------------------------------------

    async def cancel_booking(self, booking_id: str, cancel_token: str) -> Booking:
        booking = await self.booking(booking_id)
        booking.require_cancel_token(cancel_token)
        if booking.status is BookingStatus.CANCELLED:
            return booking
        policy = (await self.practitioner_of(booking)).offer.cancellation
        cancelled = await self._change(
            booking, lambda b: b.cancel_by_client(at=self.clock.now(), policy=policy)
        )
        return await self._after_cancelling(cancelled)

    async def cancel_for_practitioner(self, booking_id: str, reason: str) -> Booking:
        """Cancel on the practitioner's side (e.g. their calendar took the slot): the client gets
        every cent back, whatever the cancellation policy says."""
        booking = await self.booking(booking_id)
        if booking.status is BookingStatus.CANCELLED:
            return booking
        cancelled = await self._change(
            booking, lambda b: b.cancel_by_practitioner(at=self.clock.now(), reason=reason)
        )
        return await self._after_cancelling(cancelled)

    async def _after_cancelling(self, cancelled: Booking) -> Booking:
        """Close the checkout of a booking cancelled before paying (a payment that beat the
        cancellation is refunded), then send the refund the cancellation owes."""
        if cancelled.payment_check_due:
            await self._check_payment(cancelled)
            cancelled = await self.booking(cancelled.id)
        return await self._issue_refund(cancelled)

    # -- housekeeping ----------------------------------------------------------------------------

    async def release_lapsed_holds(self) -> ReconcileReport:
        """Ask the provider about every hold past its expiry and apply the answer: a lost webhook
        confirms or refunds, an unpaid checkout is expired and its hold released."""
        holds = await self.store.lapsed_holds(self.clock.now())
        confirmed = released = 0
        for hold in holds:
            outcome = await self._settle_lapsed(hold)
            confirmed += outcome is PaymentOutcome.CONFIRMED
            released += outcome is PaymentOutcome.RELEASED
        return ReconcileReport(len(holds), confirmed, released, 0)

    async def _settle_lapsed(self, hold: Booking) -> PaymentOutcome:
        if hold.checkout_session_id is None:  # checkout never started: nothing could be paid
            return await self._release(hold, "hold lapsed")
        state = await self._close_checkout(hold.checkout_session_id)
        if state is not None and state.paid:
            return await self._carry_out(hold, decide_payment(hold, state))
        closed_unpaid = state is not None and state.closed_unpaid
        # Without the provider's word (unreachable, or a delayed method still on its way) the hold
        # is released all the same, and stays to be checked: a payment may still be reported.
        return await self._release(hold, "hold lapsed", check_due=not closed_unpaid)

    async def check_payments(self) -> tuple[int, int]:
        """Ask the provider about every booking released without its word (`payment_check_due`) and
        apply the answer as the webhook would: paid -> confirmed if the slot is still free, else
        refunded; still open -> expired; expired unpaid -> nothing left to check. Returns how many
        were asked about and how many of those were confirmed."""
        due = await self.store.payment_checks_due()
        confirmed = 0
        for booking in due:
            confirmed += await self._check_payment(booking) is PaymentOutcome.CONFIRMED
        return len(due), confirmed

    async def _check_payment(self, booking: Booking) -> PaymentOutcome:
        if booking.checkout_session_id is None:
            await self._clear_payment_check(booking)
            return PaymentOutcome.IGNORED
        state = await self._close_checkout(booking.checkout_session_id)
        if state is None or not (state.paid or state.closed_unpaid):
            return PaymentOutcome.IGNORED  # no word yet: asked again on the next run
        outcome = (
            await self._carry_out(booking, decide_payment(booking, state))
            if state.paid
            else PaymentOutcome.IGNORED
        )
        await self._clear_payment_check(await self.booking(booking.id))
        return outcome

    async def _close_checkout(self, session_id: str) -> PaymentEvent | None:
        """Expire the checkout if it is still open and return what the provider says of it then
        (paid if the client finished first, however late); None if the provider cannot answer."""
        try:
            return await self.payments.expire_checkout(session_id)
        except PaymentProviderError:
            log.warning("could not close checkout session %s; it stays to be checked", session_id)
            return None

    async def _clear_payment_check(self, booking: Booking) -> None:
        await self._change(booking, lambda b: (b.clear_payment_check(at=self.clock.now()), None))

    async def settle_refunds(self) -> int:
        issued = 0
        for booking in await self.store.refunds_due():
            issued += (await self._issue_refund(booking)).refund_id is not None
        return issued

    async def reconcile(self) -> ReconcileReport:
        holds = await self.release_lapsed_holds()
        checked, confirmed = await self.check_payments()
        refunds = await self.settle_refunds()
        return ReconcileReport(
            holds.holds_checked, holds.confirmed + confirmed, holds.released, refunds, checked
        )

    # -- the one way bookings change -------------------------------------------------------------

    async def _change(self, booking: Booking, step: Step) -> Booking:
        """Apply `step` and save; on a concurrent change reload and apply it again."""
        for _ in range(_SAVE_ATTEMPTS):
            after, event = step(booking)
            if after is booking:
                return booking
            try:
                await self.store.save(booking, after, event)
            except ConcurrentUpdate:
                booking = await self.booking(booking.id)
                continue
            if event is not None:
                await self._notify(after, event)
            return after
        raise ConcurrentUpdate("The booking is changing too often; please try again.")

    async def _notify(
        self, booking: Booking, event: BookingEvent, practitioner: Practitioner | None = None
    ) -> None:
        try:
            if practitioner is None:
                practitioner = await self.practitioner_of(booking)
            await self.notifier.booking_changed(booking, event, practitioner)
        except Exception:  # a notification must never undo a committed booking change
            log.exception("notifying about booking %s (%s) failed", booking.id, event.trigger)


def _release_step(booking: Booking, at: datetime, reason: str, check_due: bool = False) -> Transition:
    """Release the hold if it still stands (a payment or an expiry may have come first)."""
    if booking.status is not BookingStatus.PENDING_PAYMENT:
        return booking, None
    return booking.release(at=at, reason=reason, check_due=check_due)


def _validate(request: BookingRequest, practitioner: Practitioner) -> tuple[ClientDetails, str]:
    problems: dict[str, str] = {}
    try:
        client = ClientDetails.create(request.name, request.email, request.phone)
    except InvalidInput as error:
        problems.update(error.fields)
    timezone = request.timezone or practitioner.timezone
    try:
        zone(timezone)
    except ValueError as error:
        problems["timezone"] = str(error)
    start_problem = start_time_problem(request.start)
    if start_problem is not None:
        problems["start"] = start_problem
    if problems:
        raise InvalidInput(problems)
    return client, timezone


def _product_name(practitioner: Practitioner, slot: TimeRange) -> str:
    local = slot.start.astimezone(zone(practitioner.timezone))
    return f"{practitioner.name}, {local:%a %d %b %Y %H:%M} ({practitioner.timezone})"
