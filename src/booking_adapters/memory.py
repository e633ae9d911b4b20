"""In-memory fakes for every port: the doubles that unit tests and the demo use.

They honour the same contracts as the real adapters (tests/contract runs one suite over both). The
doubles that keep nothing (a manual clock, predictable ids, a fake payment gateway, a recording
listener) live in booking_core.testing.doubles, where the shipped stateful contract runs a third
party's store among them; they are imported from here as before.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from attrs import define, evolve, field

from booking_core import (
    LAPSED_HOLD,
    LIVE_STATUSES,
    AvailabilityProviderError,
    AvailabilitySourceName,
    Booking,
    BookingEvent,
    BookingLimit,
    BookingStatus,
    CandidateSlots,
    Caps,
    ClientDetails,
    ConcurrentUpdate,
    Credential,
    CredentialKind,
    DeliveryFailure,
    DeliveryRecord,
    FeedKey,
    FreeBookingCaps,
    HoldCaps,
    OutboxItem,
    Practitioner,
    PractitionerHasLiveBookings,
    PractitionerRemoved,
    Reminder,
    ReminderRecord,
    Service,
    SlotUnavailable,
    TimeOff,
    TimeOffConflicts,
    TimeRange,
    TooManyHolds,
    UnknownPractitioner,
    UpcomingBooking,
    claims_a_span,
    placed_at,
)
from booking_core.client_erasure import scrub
from booking_core.testing.doubles import (  # noqa: F401 (offered here with the stores, as before)
    FakeCheckout,
    FakePaymentGateway,
    ManualClock,
    RecordingNotifier,
    SequentialIds,
)
from booking_core.timerange import bounds


@define
class MemoryCredentialStore:
    """Credentials in a dict by hash; the lock makes `take` single use across threads too."""

    _credentials: dict[str, Credential] = field(factory=dict)
    _lock: threading.Lock = field(factory=threading.Lock)

    async def add(self, credential: Credential, now: datetime) -> None:
        with self._lock:
            for token_hash, stored in list(self._credentials.items()):
                if not stored.is_valid(now):
                    del self._credentials[token_hash]
            self._credentials[credential.token_hash] = credential

    async def find(self, kind: CredentialKind, token_hash: str, now: datetime) -> Credential | None:
        found = self._credentials.get(token_hash)
        return found if found is not None and found.kind is kind and found.is_valid(now) else None

    async def take(self, kind: CredentialKind, token_hash: str, now: datetime) -> Credential | None:
        with self._lock:
            found = await self.find(kind, token_hash, now)
            if found is not None:
                del self._credentials[token_hash]
            return found

    async def revoke(self, kind: CredentialKind, token_hash: str) -> None:
        with self._lock:
            found = self._credentials.get(token_hash)
            if found is not None and found.kind is kind:
                del self._credentials[token_hash]

    async def revoke_all(self, practitioner_id: str, kind: CredentialKind) -> int:
        with self._lock:
            gone = [
                token_hash
                for token_hash, c in self._credentials.items()
                if c.practitioner_id == practitioner_id and c.kind is kind
            ]
            for token_hash in gone:
                del self._credentials[token_hash]
            return len(gone)


@define
class MemoryDirectory:
    """Practitioners in a dict. Linked to the `bookings` store that holds their bookings, it removes
    a practitioner atomically with that store's check (see `MemoryBookingStore.close_practitioner`);
    unlinked, it knows of no bookings."""

    _practitioners: dict[str, Practitioner] = field(factory=dict)
    bookings: MemoryBookingStore | None = None
    _removed: set[str] = field(factory=set)

    @classmethod
    def of(
        cls, practitioners: Iterable[Practitioner], bookings: MemoryBookingStore | None = None
    ) -> MemoryDirectory:
        return cls({p.id: p for p in practitioners}, bookings)

    async def get(self, practitioner_id: str, *, include_removed: bool = False) -> Practitioner | None:
        if practitioner_id in self._removed and not include_removed:
            return None
        return self._practitioners.get(practitioner_id)

    async def list(self) -> Sequence[Practitioner]:
        listed = (p for p in self._practitioners.values() if p.id not in self._removed)
        return sorted(listed, key=lambda p: p.id)

    async def upsert(self, practitioner: Practitioner) -> None:
        self._practitioners[practitioner.id] = practitioner
        self._removed.discard(practitioner.id)
        if self.bookings is not None:
            self.bookings.reopen_practitioner(practitioner.id)

    async def remove(self, practitioner_id: str, now: datetime) -> None:
        if practitioner_id not in self._practitioners or practitioner_id in self._removed:
            raise UnknownPractitioner(practitioner_id)
        if self.bookings is not None:
            self.bookings.close_practitioner(practitioner_id, now)
        self._removed.add(practitioner_id)


def _same_client(booking: Booking, others: list[Booking]) -> tuple[int, int, int]:
    """How many of `others` share `booking`'s e-mail (case-insensitive), phone and network address."""
    email = booking.client.email.lower()
    return (
        sum(b.client.email.lower() == email for b in others),
        sum(b.client.phone == booking.client.phone for b in others),
        sum(
            booking.client_address is not None and b.client_address == booking.client_address for b in others
        ),
    )


@define
class MemoryCalendarFeedKeys:
    """Feed keys by practitioner."""

    _keys: dict[str, FeedKey] = field(factory=dict)

    async def key_of(self, practitioner_id: str) -> FeedKey | None:
        return self._keys.get(practitioner_id)

    async def key_by_hash(self, token_hash: str) -> FeedKey | None:
        return next((key for key in self._keys.values() if key.token_hash == token_hash), None)

    async def put(self, key: FeedKey) -> None:
        self._keys[key.practitioner_id] = key


@define
class _Delivery:
    attempts: int = 0
    delivered: bool = False
    delivered_at: datetime | None = None
    next_attempt_at: datetime | None = None  # None with attempts > 0: given up
    leased_until: datetime | None = None
    last_error: str = ""


@define
class _ReminderDelivery:
    leased_until: datetime | None = None  # also: not before (a retry's time)
    sent_at: datetime | None = None
    attempts: int = 0
    last_error: str = ""


@define
class MemoryBookingStore:
    """A lock around plain dicts makes add-if-free and adding time off atomic (across threads too).
    It is also the outbox: the history is one ordered log that channels consume."""

    _bookings: dict[str, Booking] = field(factory=dict)
    _time_off: dict[str, TimeOff] = field(factory=dict)
    _log: list[BookingEvent] = field(factory=list)  # seq = index + 1
    _processed: dict[str, datetime] = field(factory=dict)
    _channel_start: dict[str, int] = field(factory=dict)
    _deliveries: dict[tuple[str, int], _Delivery] = field(factory=dict)
    # the reminders sent or tried, written by a MemoryReminderLedger over this store
    _reminders: dict[Reminder, _ReminderDelivery] = field(factory=dict)
    _lock: threading.Lock = field(factory=threading.Lock)
    _closed: set[str] = field(factory=set)  # removed practitioners: no new live bookings

    def close_practitioner(self, practitioner_id: str, now: datetime) -> None:
        """Take no more bookings of the practitioner, unless one of theirs is ahead at `now`: then
        raise PractitionerHasLiveBookings (under the lock add_if_free takes, so no booking slips in)."""
        with self._lock:
            ahead = sorted(
                (
                    b
                    for b in self._bookings.values()
                    if b.practitioner_id == practitioner_id and b.is_ahead(now)
                ),
                key=lambda b: (b.slot.start, b.id),
            )
            if ahead:
                raise PractitionerHasLiveBookings(
                    practitioner_id,
                    held=[b.id for b in ahead if b.status is BookingStatus.PENDING_PAYMENT],
                    confirmed=[b.id for b in ahead if b.status is BookingStatus.CONFIRMED],
                )
            self._closed.add(practitioner_id)

    def reopen_practitioner(self, practitioner_id: str) -> None:
        with self._lock:
            self._closed.discard(practitioner_id)

    async def add_if_free(
        self,
        booking: Booking,
        event: BookingEvent,
        caps: Caps | None = None,
        limits: Sequence[BookingLimit] = (),
    ) -> None:
        with self._lock:
            if booking.idempotency_key is not None and any(
                other.practitioner_id == booking.practitioner_id
                and other.idempotency_key == booking.idempotency_key
                for other in self._bookings.values()
            ):  # a concurrent twin of the same request won; the service replays it
                raise SlotUnavailable("This request was already made with the same Idempotency-Key.")
            if isinstance(caps, HoldCaps) and (refusal := self._hold_refusal(booking, event.at, caps)):
                raise refusal
            if isinstance(caps, FreeBookingCaps) and (refusal := self._free_refusal(booking, event.at, caps)):
                raise refusal
            self._refuse_over(limits, booking.practitioner_id, event.at)
            self._claim(booking, event.at)
            self._bookings[booking.id] = booking
            self._log.append(event)

    async def save(
        self,
        before: Booking,
        after: Booking,
        event: BookingEvent | None,
        limits: Sequence[BookingLimit] = (),
    ) -> None:
        with self._lock:
            current = self._bookings.get(before.id)
            if current is None or current.version != before.version:
                raise ConcurrentUpdate(f"booking {before.id} changed meanwhile")
            if claims_a_span(current, after):
                self._refuse_over(limits, after.practitioner_id, after.updated_at)
                self._claim(after, after.updated_at)
            self._bookings[after.id] = after
            if event is not None:
                self._log.append(event)

    def _hold_refusal(self, booking: Booking, now: datetime, caps: HoldCaps) -> TooManyHolds | None:
        unpaid = [
            b for b in self._bookings.values() if b.status is BookingStatus.PENDING_PAYMENT and b.is_live(now)
        ]
        email, phone, address = _same_client(booking, unpaid)
        return caps.refusal(
            email,
            phone,
            address,
            practitioner=sum(
                b.practitioner_id == booking.practitioner_id
                and caps.window.start <= b.slot.start < caps.window.end
                for b in unpaid
            ),
        )

    def _free_refusal(self, booking: Booking, now: datetime, caps: FreeBookingCaps) -> TooManyHolds | None:
        ahead = [
            b
            for b in self._bookings.values()
            if b.practitioner_id == booking.practitioner_id
            and b.status is BookingStatus.CONFIRMED
            and b.is_free
            and b.slot.end > now
        ]
        return caps.refusal(*_same_client(booking, ahead))

    def _refuse_over(self, limits: Sequence[BookingLimit], practitioner_id: str, now: datetime) -> None:
        """Raise the refusal of the first limit the practitioner's live bookings at `now` fill."""
        live = self._live_starts(practitioner_id, now)
        for limit in limits:
            if refusal := limit.refusal(sum(limit.counts(start, service) for start, service in live)):
                raise refusal

    def _live_starts(self, practitioner_id: str, now: datetime) -> list[tuple[datetime, str]]:
        return sorted(
            (b.slot.start, b.service_id)
            for b in self._bookings.values()
            if b.practitioner_id == practitioner_id and b.is_live(now)
        )

    def _claim(self, booking: Booking, now: datetime) -> None:
        """Raise SlotUnavailable if a live booking or time off is in the way or the practitioner was
        removed; release lapsed holds that are in the way."""
        if booking.practitioner_id in self._closed:
            raise PractitionerRemoved()
        if any(
            block.practitioner_id == booking.practitioner_id and block.span.overlaps(booking.occupied)
            for block in self._time_off.values()
        ):
            raise SlotUnavailable()
        in_the_way = self._in_the_way(booking.practitioner_id, booking.occupied, booking.id)
        if any(other.is_live(now) for other in in_the_way):
            raise SlotUnavailable()
        self._release(in_the_way, now)

    def _in_the_way(self, practitioner_id: str, span: TimeRange, booking_id: str = "") -> list[Booking]:
        """The practitioner's bookings of a live status, other than `booking_id`, occupying part of `span`."""
        return [
            other
            for other in self._bookings.values()
            if other.practitioner_id == practitioner_id
            and other.id != booking_id
            and other.status in LIVE_STATUSES
            and other.occupied.overlaps(span)
        ]

    def _release(self, lapsed_holds: Iterable[Booking], now: datetime) -> None:
        for lapsed in lapsed_holds:
            released, event = lapsed.release(at=now, reason=LAPSED_HOLD, check_due=True)
            self._bookings[lapsed.id] = released
            if event is not None:
                self._log.append(event)

    async def add_time_off(self, time_off: TimeOff, now: datetime) -> None:
        with self._lock:
            in_the_way = self._in_the_way(time_off.practitioner_id, time_off.span)
            live = sorted((b for b in in_the_way if b.is_live(now)), key=lambda b: (b.slot.start, b.id))
            if live:
                raise TimeOffConflicts([b.id for b in live])
            self._release(in_the_way, now)
            self._time_off[time_off.id] = time_off

    async def time_off(self, practitioner_id: str, window: TimeRange) -> Sequence[TimeOff]:
        return sorted(
            (
                block
                for block in self._time_off.values()
                if block.practitioner_id == practitioner_id and block.span.overlaps(window)
            ),
            key=lambda block: (block.span.start, block.span.end, block.id),
        )

    async def remove_time_off(self, practitioner_id: str, time_off_id: str) -> TimeOff | None:
        with self._lock:
            block = self._time_off.get(time_off_id)
            if block is None or block.practitioner_id != practitioner_id:
                return None
            return self._time_off.pop(time_off_id)

    async def get(self, booking_id: str) -> Booking | None:
        return self._bookings.get(booking_id)

    async def find_by_idempotency_key(self, practitioner_id: str, key: str) -> Booking | None:
        for booking in self._bookings.values():
            if booking.practitioner_id == practitioner_id and booking.idempotency_key == key:
                return booking
        return None

    async def busy(self, practitioner_id: str, window: TimeRange, now: datetime) -> Sequence[TimeRange]:
        occupied = (
            b.occupied
            for b in self._bookings.values()
            if b.practitioner_id == practitioner_id and b.is_live(now) and b.occupied.overlaps(window)
        )
        blocked = (block.span for block in await self.time_off(practitioner_id, window))
        return sorted(itertools.chain(occupied, blocked), key=bounds)

    async def bookings_of(
        self,
        practitioner_id: str,
        window: TimeRange,
        statuses: frozenset[BookingStatus] | None = None,
    ) -> Sequence[Booking]:
        found = (
            b
            for b in self._bookings.values()
            if b.practitioner_id == practitioner_id
            and b.slot.overlaps(window)
            and (statuses is None or b.status in statuses)
        )
        return sorted(found, key=lambda b: (b.slot.start, b.id))

    async def lapsed_holds(self, now: datetime, limit: int = 100) -> Sequence[Booking]:
        lapsed = [
            b
            for b in self._bookings.values()
            if b.status is BookingStatus.PENDING_PAYMENT and not b.is_live(now)
        ]
        return sorted(lapsed, key=lambda b: b.hold_expires_at)[:limit]

    async def sessions_ended(self, now: datetime, limit: int = 100) -> Sequence[Booking]:
        ended = [
            b for b in self._bookings.values() if b.status is BookingStatus.CONFIRMED and b.slot.end <= now
        ]
        return sorted(ended, key=lambda b: (b.slot.end, b.id))[:limit]

    async def payment_checks_due(self, limit: int = 100) -> Sequence[Booking]:
        due = [b for b in self._bookings.values() if b.payment_check_due]
        return sorted(due, key=lambda b: b.updated_at)[:limit]

    async def refunds_due(self, limit: int = 100) -> Sequence[Booking]:
        due = [b for b in self._bookings.values() if b.refund_owed is not None and b.refund_id is None]
        return sorted(due, key=lambda b: b.updated_at)[:limit]

    async def history(self, booking_id: str) -> Sequence[BookingEvent]:
        return [event for event in self._log if event.booking_id == booking_id]

    async def is_payment_event_processed(self, event_id: str) -> bool:
        return event_id in self._processed

    async def mark_payment_event_processed(self, event_id: str, at: datetime) -> None:
        self._processed.setdefault(event_id, at)

    # -- Outbox ---------------------------------------------------------------------------------

    async def claim(
        self, channel: str, now: datetime, *, limit: int = 50, lease_seconds: int = 60
    ) -> Sequence[OutboxItem]:
        with self._lock:
            start = self._channel_start.setdefault(channel, len(self._log))
            items: list[OutboxItem] = []
            if limit <= 0:
                return items
            for seq in range(start + 1, len(self._log) + 1):
                delivery = self._deliveries.setdefault((channel, seq), _Delivery())
                if delivery.delivered or (delivery.attempts and delivery.next_attempt_at is None):
                    continue
                if delivery.next_attempt_at and delivery.next_attempt_at > now:
                    continue
                if delivery.leased_until and delivery.leased_until > now:
                    continue
                delivery.leased_until = now + timedelta(seconds=lease_seconds)
                items.append(OutboxItem(seq, self._log[seq - 1], delivery.attempts))
                if len(items) == limit:
                    break
            return items

    async def mark_delivered(self, channel: str, seqs: Sequence[int], at: datetime) -> None:
        with self._lock:
            for seq in seqs:
                delivery = self._deliveries.setdefault((channel, seq), _Delivery())
                delivery.delivered, delivery.leased_until, delivery.last_error = True, None, ""
                delivery.delivered_at = at

    async def mark_failed(
        self, channel: str, seq: int, at: datetime, error: str, retry_at: datetime | None
    ) -> None:
        with self._lock:
            delivery = self._deliveries.setdefault((channel, seq), _Delivery())
            delivery.attempts += 1
            delivery.next_attempt_at, delivery.leased_until, delivery.last_error = retry_at, None, error

    async def failures(self, channel: str | None = None) -> Sequence[DeliveryFailure]:
        return [
            DeliveryFailure(
                ch, seq, self._log[seq - 1].booking_id, d.attempts, d.last_error, d.next_attempt_at
            )
            for (ch, seq), d in sorted(self._deliveries.items())
            if d.attempts and not d.delivered and channel in (None, ch)
        ]

    # -- ClientDataStore ------------------------------------------------------------------------

    async def bookings_of_client(self, email: str) -> Sequence[Booking]:
        wanted = email.casefold()
        found = [b for b in self._bookings.values() if b.client.email.casefold() == wanted]
        return sorted(found, key=lambda b: (b.created_at, b.id))

    async def deliveries_of(self, booking_ids: Sequence[str]) -> Sequence[DeliveryRecord]:
        wanted = set(booking_ids)
        return [
            DeliveryRecord(ch, seq, self._log[seq - 1], d.attempts, d.delivered_at, d.last_error)
            for (ch, seq), d in sorted(self._deliveries.items(), key=lambda item: (item[0][1], item[0][0]))
            if self._log[seq - 1].booking_id in wanted and (d.delivered or d.attempts)
        ]

    async def reminders_of(self, booking_ids: Sequence[str]) -> Sequence[ReminderRecord]:
        wanted = set(booking_ids)
        with self._lock:
            records = [
                ReminderRecord(reminder, d.sent_at, d.attempts, d.last_error)
                for reminder, d in self._reminders.items()
                if reminder.booking_id in wanted and (d.sent_at is not None or d.attempts)
            ]
        return sorted(records, key=lambda r: _reminder_order(r.reminder))

    async def anonymise(
        self, booking_ids: Sequence[str], erased: ClientDetails, scrub_out: Sequence[str], at: datetime
    ) -> int:
        with self._lock:
            wanted = {booking_id for booking_id in booking_ids if booking_id in self._bookings}
            for booking_id in wanted:
                booking = self._bookings[booking_id]
                self._bookings[booking_id] = evolve(
                    booking,
                    client=erased,
                    client_address=None,
                    request_hash=None,
                    version=booking.version + 1,
                    updated_at=at,
                )
            for index, event in enumerate(self._log):
                if event.booking_id in wanted:
                    self._log[index] = evolve(event, reason=scrub(event.reason, scrub_out))
            for (_, seq), delivery in self._deliveries.items():
                if self._log[seq - 1].booking_id in wanted:
                    delivery.last_error = scrub(delivery.last_error, scrub_out)
            for reminder, sent in self._reminders.items():
                if reminder.booking_id in wanted:
                    sent.last_error = scrub(sent.last_error, scrub_out)
        return len(wanted)

    async def identified_sessions_ended(self, ended_by: datetime, limit: int = 100) -> Sequence[Booking]:
        due = [b for b in self._bookings.values() if b.slot.end <= ended_by and not b.client.is_erased]
        return sorted(due, key=lambda b: (b.slot.end, b.id))[:limit]

    def all_bookings(self) -> list[Booking]:
        """Test inspection: every booking ever stored."""
        return list(self._bookings.values())


@define
class MemoryReminderLedger:
    """The reminders sent, kept in a MemoryBookingStore beside its bookings (as SQL keeps them in the
    same database), under its lock: the store's export and erasure reach them."""

    store: MemoryBookingStore

    async def upcoming(self, now: datetime, within: timedelta) -> Sequence[UpcomingBooking]:
        with self.store._lock:
            ahead = [
                booking
                for booking in self.store._bookings.values()
                if booking.status is BookingStatus.CONFIRMED and now < booking.slot.start <= now + within
            ]
            return [
                UpcomingBooking(booking, placed_at(self._history(booking.id)), self._sent(booking))
                for booking in sorted(ahead, key=lambda b: (b.slot.start, b.id))
            ]

    def _history(self, booking_id: str) -> list[BookingEvent]:
        return [event for event in self.store._log if event.booking_id == booking_id]

    def _sent(self, booking: Booking) -> frozenset[timedelta]:
        return frozenset(
            reminder.offset
            for reminder, delivery in self.store._reminders.items()
            if reminder.booking_id == booking.id
            and reminder.slot_start == booking.slot.start
            and delivery.sent_at is not None
        )

    async def claim(
        self, reminders: Sequence[Reminder], now: datetime, *, lease_seconds: int = 60
    ) -> Sequence[Reminder]:
        claimed = []
        with self.store._lock:
            for reminder in reminders:
                booking = self.store._bookings.get(reminder.booking_id)
                if booking is None or booking.status is not BookingStatus.CONFIRMED:
                    continue
                if booking.slot.start != reminder.slot_start:
                    continue
                delivery = self.store._reminders.setdefault(reminder, _ReminderDelivery())
                if delivery.sent_at is not None or (delivery.leased_until and delivery.leased_until > now):
                    continue
                delivery.leased_until = now + timedelta(seconds=lease_seconds)
                claimed.append(reminder)
        return claimed

    async def mark_sent(self, reminders: Sequence[Reminder], at: datetime) -> None:
        with self.store._lock:
            for reminder in reminders:
                delivery = self.store._reminders.setdefault(reminder, _ReminderDelivery())
                delivery.sent_at, delivery.leased_until, delivery.last_error = at, None, ""

    async def mark_failed(self, reminder: Reminder, at: datetime, error: str, retry_at: datetime) -> None:
        with self.store._lock:
            delivery = self.store._reminders.setdefault(reminder, _ReminderDelivery())
            delivery.attempts += 1
            delivery.leased_until, delivery.last_error = retry_at, error


def _reminder_order(reminder: Reminder) -> tuple[str, datetime, timedelta, str]:
    return reminder.booking_id, reminder.slot_start, -reminder.offset, reminder.channel


@define
class StaticSlotsSource:
    """An availability source that offers exactly the slot starts it was given (a stand-in for a
    calendar); slots last the practitioner's session length. The AvailabilitySource contract
    (tests/contract/test_availability_source.py) runs over it as "static"."""

    starts: dict[str, list[datetime]] = field(factory=dict)
    failing: bool = False
    source: AvailabilitySourceName = AvailabilitySourceName.CALCOM
    calls: int = 0

    async def candidate_slots(
        self,
        practitioner: Practitioner,
        window: TimeRange,
        *,
        fresh: bool = False,
        service: Service | None = None,
        moving: Booking | None = None,
    ) -> CandidateSlots:
        del moving  # the given starts are those of a calendar that holds none of our bookings
        self.calls += 1
        if self.failing:
            raise AvailabilityProviderError(
                "The calendar service is not answering. Please try again shortly."
            )
        offered = [s for s in self.starts.get(practitioner.id, ()) if window.start <= s < window.end]
        length = practitioner.offer_for(service).session_length
        return CandidateSlots(tuple(offered), length, self.source)
