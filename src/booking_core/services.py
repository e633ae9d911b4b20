"""The booking service: reading practitioners and availability, requesting a booking, and the
front of the other use cases (payment_handling.py, cancellation.py, rescheduling.py,
reconciliation.py), which it builds over the same ports."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import datetime, timedelta

from attrs import define, field, frozen

from booking_core.attendance import Attendance
from booking_core.availability import (
    Availability,
    AvailabilitySourceName,
    bookable_window,
    free_slots,
)
from booking_core.booking import LIVE_STATUSES, Booking, BookingStatus
from booking_core.booking_changes import BookingChanges
from booking_core.booking_limits import Period, local_period
from booking_core.cancellation import Cancellation
from booking_core.checkouts import checkout_for, first_checkout_key
from booking_core.client import ClientDetails
from booking_core.errors import (
    IdempotencyKeyReused,
    InvalidInput,
    PaymentProviderError,
    SlotUnavailable,
    TooManyHolds,
    UnknownBooking,
    UnknownPractitioner,
)
from booking_core.hold_limits import Caps, HoldLimits, client_network
from booking_core.offer import Practitioner, Service, ServiceChoiceError
from booking_core.payment import PaymentEvent
from booking_core.payment_handling import PaymentHandling, PaymentOutcome
from booking_core.ports import (
    AvailabilitySource,
    BookingChangeListener,
    BookingStore,
    BusySpans,
    Clock,
    IdGenerator,
    PaymentGateway,
    PractitionerDirectory,
)
from booking_core.reconciliation import ReconcileReport, Reconciliation
from booking_core.rescheduling import Rescheduling
from booking_core.schedule import zone
from booking_core.start_time import start_time_problem
from booking_core.time_off import TimeOff
from booking_core.time_off_planning import TimeOffPlanning
from booking_core.timerange import TimeRange

MAX_AVAILABILITY_WINDOW = timedelta(days=62)  # also of a practitioner's list of bookings


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
    service_id: str | None = None  # required when the practitioner offers several services

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
        if self.service_id is not None:  # so that requests made before services hash as they did
            asked.append(self.service_id)
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
    # Where availability reads what blocks slots: the store unless a memory of it is put in front
    # (booking_web.busy_cache). Booking never reads it: the store decides atomically.
    busy_spans: BusySpans | None = None
    # The use cases this service fronts, each over the ports it needs (built from the fields above).
    _changes: BookingChanges = field(init=False)
    _payment_handling: PaymentHandling = field(init=False)
    _cancellation: Cancellation = field(init=False)
    _reconciliation: Reconciliation = field(init=False)
    _rescheduling: Rescheduling = field(init=False)
    _time_off: TimeOffPlanning = field(init=False)
    _attendance: Attendance = field(init=False)

    def __attrs_post_init__(self) -> None:
        self._changes = BookingChanges(self.store, self.directory, self.notifier)
        self._payment_handling = PaymentHandling(self._changes, self.payments, self.clock)
        self._cancellation = Cancellation(self._changes, self._payment_handling, self.clock)
        self._reconciliation = Reconciliation(self._changes, self._payment_handling, self.clock)
        self._rescheduling = Rescheduling(
            self._changes, self.clock, self._offered, self._payment_handling, self.ids
        )
        self._time_off = TimeOffPlanning(self.store, self.notifier, self.clock, self.ids)
        self._attendance = Attendance(self._changes, self.clock)

    # -- reading -------------------------------------------------------------------------------

    async def practitioner(self, practitioner_id: str) -> Practitioner:
        """A practitioner who can be booked (not removed)."""
        practitioner = await self.directory.get(practitioner_id)
        if practitioner is None:
            raise UnknownPractitioner(practitioner_id)
        return practitioner

    async def practitioner_of(self, booking: Booking) -> Practitioner:
        """The booking's practitioner, even if removed since: their past bookings still name them."""
        return await self._changes.practitioner_of(booking)

    async def booking(self, booking_id: str) -> Booking:
        return await self._changes.booking(booking_id)

    async def bookings_of(
        self, practitioner_id: str, window: TimeRange, statuses: frozenset[BookingStatus] | None = None
    ) -> Sequence[Booking]:
        """The practitioner's bookings whose slot overlaps `window` (of `statuses` only, if given),
        ordered by start: what they see of their own calendar."""
        self._require_short(window)
        return await self.store.bookings_of(practitioner_id, window, statuses)

    async def booking_of_practitioner(self, practitioner_id: str, booking_id: str) -> Booking:
        """One of the practitioner's bookings; another's is NotFound, as an unknown id is."""
        booking = await self.booking(booking_id)
        if booking.practitioner_id != practitioner_id:
            raise UnknownBooking()
        return booking

    def _require_short(self, window: TimeRange) -> None:
        if window.duration > self.max_window:
            raise InvalidInput({"end": f"A range may span at most {self.max_window.days} days."})

    async def list_availability(
        self, practitioner_id: str, window: TimeRange, service_id: str | None = None
    ) -> Availability:
        """Free slots of the service `service_id` (optional when the practitioner offers one)."""
        self._require_short(window)
        practitioner = await self.practitioner(practitioner_id)
        service = _chosen_service(practitioner, service_id, "service")
        slots, source = await self._free_slots(practitioner, service, window, fresh=False)
        return Availability(practitioner_id, window, tuple(slots), source, service.id)

    async def move_options(self, booking: Booking, window: TimeRange) -> Availability:
        """The free slots of `booking`'s service in `window` it may move to, as the client's rules
        have them (notice, horizon): its own occupied span does not count against it (so it may
        move by less than its length), everything else does (other bookings, time off, the limits
        its start does not count against already); its own slot is left out (no move)."""
        self._require_short(window)
        practitioner = await self.practitioner_of(booking)
        service = _chosen_service(practitioner, booking.service_id, "service")
        slots, source = await self._free_slots(practitioner, service, window, fresh=False, moving=booking)
        others = tuple(slot for slot in slots if slot != booking.slot)
        return Availability(practitioner.id, window, others, source, service.id)

    async def _free_slots(
        self,
        practitioner: Practitioner,
        service: Service,
        window: TimeRange,
        *,
        fresh: bool,
        with_bookings: bool = True,
        moving: Booking | None = None,
    ) -> tuple[list[TimeRange], AvailabilitySourceName]:
        """The slots of `service` offered in `window`, minus those live bookings of any service
        occupy (unless `with_bookings` is false: then only what the source offers within notice and
        horizon). One conflict rule for every service: occupied spans (slot plus buffers) overlap.
        With `moving`, for that booking's move: its own span and limits' counts left out."""
        now = self.clock.now()
        offer = practitioner.offer_for(service)
        allowed = bookable_window(offer, window, now)
        if allowed is None:
            default = (
                AvailabilitySourceName.CALCOM
                if practitioner.calcom_event_type_id
                else AvailabilitySourceName.SCHEDULE
            )
            return [], default
        candidates = await self.availability.candidate_slots(
            practitioner, allowed, fresh=fresh, service=service, moving=moving
        )
        if not candidates.starts:
            return [], candidates.source
        reach = TimeRange(
            min(candidates.starts) - offer.buffer_before,
            max(candidates.starts) + candidates.length + offer.buffer_after,
        )
        if not with_bookings:
            return free_slots(candidates, (), offer, allowed, now), candidates.source
        busy = await (self.busy_spans or self.store).busy(practitioner.id, reach, now)
        if moving is not None and moving.is_live(now):
            busy = _without_own_span(busy, moving.occupied)
        slots = free_slots(candidates, busy, offer, allowed, now)
        if slots and practitioner.has_limits(service.id):
            slots = await self._under_limits(practitioner, service, slots, now, moving)
        return slots, candidates.source

    async def _offered(
        self, practitioner: Practitioner, service: Service, window: TimeRange, moving: Booking
    ) -> list[TimeRange]:
        """The slots of `service` offered in `window` as a move checks its new slot: asked afresh
        (a calendar told which booking moves), within notice and horizon, bookings not taken out
        (the store decides those)."""
        slots, _source = await self._free_slots(
            practitioner, service, window, fresh=True, with_bookings=False, moving=moving
        )
        return slots

    async def _under_limits(
        self,
        practitioner: Practitioner,
        service: Service,
        slots: list[TimeRange],
        now: datetime,
        moving: Booking | None = None,
    ) -> list[TimeRange]:
        """`slots` without those on a day or week already at a limit of the practitioner's or the
        service's (what the store would refuse; it decides, this only spares offering them). For
        `moving`'s move, the limits its own start counts against already are not asked (as
        BookingChanges claims them: moving within a day adds nothing to that day's count)."""
        first, last = min(slot.start for slot in slots), max(slot.start for slot in slots)
        span = TimeRange(
            local_period(first, practitioner.timezone, Period.WEEK).start,
            local_period(last, practitioner.timezone, Period.WEEK).end,
        )
        booked = await self.store.bookings_of(practitioner.id, span, LIVE_STATUSES)
        live = [(booking.slot.start, booking.service_id) for booking in booked if booking.is_live(now)]
        return [
            slot
            for slot in slots
            if not any(
                limit.is_reached(live)
                for limit in practitioner.limits_for(service.id, slot.start)
                if moving is None or not limit.counts(moving.slot.start, moving.service_id)
            )
        ]

    # -- booking ---------------------------------------------------------------------------------

    async def request_booking(self, request: BookingRequest) -> BookingHold:
        """Validate, check the slot is offered and free, hold it, start checkout; a free service's
        booking is confirmed at once, without checkout."""
        practitioner = await self.practitioner(request.practitioner_id)
        client, client_timezone, service = _validate(request, practitioner)
        if request.idempotency_key:
            existing = await self.store.find_by_idempotency_key(practitioner.id, request.idempotency_key)
            if existing is not None:
                return self._replay(existing, request, practitioner)
        offer = practitioner.offer_for(service)
        slot = TimeRange.of(request.start, offer.session_length)
        # Only whether the slot is offered (and how many are, around it, for the practitioner's
        # hold cap): whether it is free, `add_if_free` decides atomically by the same rule
        # (docs/architecture.md), so a read of the live bookings first would be a second round
        # trip to the database for nothing but an earlier refusal.
        around = self.hold_limits.window_around(slot)
        offered, _source = await self._free_slots(
            practitioner, service, around, fresh=True, with_bookings=False
        )
        if slot not in offered:
            raise SlotUnavailable()

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
            service_id=service.id,
            service_name=service.name,
        )
        caps: Caps = (
            self.hold_limits.free_caps()
            if booking.is_free
            else self.hold_limits.caps(len(offered), around, offer.hold_duration)
        )
        try:
            await self.store.add_if_free(
                booking, event, caps, practitioner.limits_for(service.id, slot.start)
            )
        except (SlotUnavailable, TooManyHolds):
            if request.idempotency_key:  # a concurrent twin of this very request won the slot
                twin = await self.store.find_by_idempotency_key(practitioner.id, request.idempotency_key)
                if twin is not None:
                    return self._replay(twin, request, practitioner)
            raise
        # A free booking is confirmed already: its listeners hear of it as of a paid one's payment.
        await self._changes.notify(booking, event, practitioner)
        if not booking.is_free:
            booking = await self._start_checkout(booking, practitioner, service)
        return BookingHold(booking, self.ids.cancel_token(booking.id), practitioner)

    async def _start_checkout(
        self, booking: Booking, practitioner: Practitioner, service: Service
    ) -> Booking:
        """Open the payment provider's checkout for a new hold; if it cannot start, release the hold."""
        try:
            session = await self.payments.start_checkout(
                checkout_for(booking, practitioner, service, booking.slot, first_checkout_key(booking))
            )
        except PaymentProviderError:
            await self._changes.apply(
                booking, lambda b: b.release(at=self.clock.now(), reason="checkout could not start")
            )
            raise
        return await self._changes.apply(
            booking, lambda b: (b.attach_checkout(session, at=self.clock.now()), None)
        )

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

    # -- payments, cancelling, moving, housekeeping (each a use case of its own) -------------------

    async def apply_payment_event(self, event: PaymentEvent) -> PaymentOutcome:
        return await self._payment_handling.apply_payment_event(event)

    async def check_checkout(self, booking: Booking, session_id: str | None = None) -> Booking:
        return await self._payment_handling.check_checkout(booking, session_id)

    async def cancel_booking(self, booking_id: str, cancel_token: str) -> Booking:
        return await self._cancellation.cancel_booking(booking_id, cancel_token)

    async def cancel_for_practitioner(
        self, booking_id: str, reason: str, *, after_start: bool = True
    ) -> Booking:
        return await self._cancellation.cancel_for_practitioner(booking_id, reason, after_start=after_start)

    async def reschedule_booking(self, booking_id: str, cancel_token: str, start: datetime) -> Booking:
        return await self._rescheduling.reschedule_booking(booking_id, cancel_token, start)

    async def reschedule_for_practitioner(
        self, booking_id: str, start: datetime, reason: str = ""
    ) -> Booking:
        return await self._rescheduling.reschedule_for_practitioner(booking_id, start, reason)

    async def release_lapsed_holds(self) -> ReconcileReport:
        return await self._reconciliation.release_lapsed_holds()

    async def check_payments(self) -> tuple[int, int]:
        return await self._reconciliation.check_payments()

    async def settle_refunds(self) -> int:
        return await self._reconciliation.settle_refunds()

    async def reconcile(self) -> ReconcileReport:
        return await self._reconciliation.reconcile()

    # -- after the session -----------------------------------------------------------------------

    async def complete_ended_sessions(self) -> int:
        return await self._attendance.complete_ended_sessions()

    async def mark_no_show(self, practitioner_id: str, booking_id: str) -> Booking:
        return await self._attendance.mark_no_show(practitioner_id, booking_id)

    async def undo_no_show(self, practitioner_id: str, booking_id: str) -> Booking:
        return await self._attendance.undo_no_show(practitioner_id, booking_id)

    # -- the practitioner's time off -------------------------------------------------------------

    async def add_time_off(self, practitioner_id: str, span: TimeRange, note: str = "") -> TimeOff:
        practitioner = await self.practitioner(practitioner_id)
        return await self._time_off.add(practitioner.id, span, note)

    async def upcoming_time_off(self, practitioner_id: str) -> Sequence[TimeOff]:
        return await self._time_off.upcoming(practitioner_id)

    async def remove_time_off(self, practitioner_id: str, time_off_id: str) -> TimeOff:
        return await self._time_off.remove(practitioner_id, time_off_id)


def _without_own_span(busy: Sequence[TimeRange], own: TimeRange) -> Sequence[TimeRange]:
    """`busy` without one span equal to `own`, a live booking's occupied span: no other live
    booking and no time off can be that very span (the store keeps them from overlapping it), so
    the one found is the booking's own."""
    spans = list(busy)
    if own in spans:
        spans.remove(own)
    return spans


def _chosen_service(practitioner: Practitioner, service_id: str | None, parameter: str) -> Service:
    """The practitioner's service `service_id`, or InvalidInput naming `parameter` (the name the
    caller gave it: `service` for availability, `service_id` in a booking request)."""
    try:
        return practitioner.service(service_id)
    except ServiceChoiceError as error:
        raise InvalidInput({parameter: str(error)}) from None


def _validate(request: BookingRequest, practitioner: Practitioner) -> tuple[ClientDetails, str, Service]:
    problems: dict[str, str] = {}
    service: Service | None = None
    try:
        service = _chosen_service(practitioner, request.service_id, "service_id")
    except InvalidInput as error:
        problems.update(error.fields)
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
    if problems or service is None:
        raise InvalidInput(problems)
    return client, timezone, service
