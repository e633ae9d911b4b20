"""The ports: what the core needs from the outside world, as Protocols (fakes need not inherit)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from attrs import frozen

from booking_core.availability import CandidateSlots
from booking_core.booking import Booking, BookingEvent, BookingStatus
from booking_core.booking_limits import BookingLimit
from booking_core.client import ClientDetails
from booking_core.credentials import Credential, CredentialKind
from booking_core.feed_keys import FeedKey
from booking_core.hold_limits import Caps
from booking_core.money import Money
from booking_core.offer import Practitioner, Service
from booking_core.payment import CheckoutRequest, CheckoutSession, PaymentEvent, Refund
from booking_core.reminders import Reminder, UpcomingBooking
from booking_core.time_off import TimeOff
from booking_core.timerange import TimeRange


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class IdGenerator(Protocol):
    def new_booking_id(self) -> str:
        """An unguessable id (at least 128 random bits), URL-safe."""
        ...

    def new_time_off_id(self) -> str:
        """An id for a practitioner's time off, URL-safe and never one a booking has."""
        ...

    def cancel_token(self, booking_id: str) -> str:
        """The client's secret for cancelling `booking_id`. The same id always gives the same
        token (a keyed hash), so an idempotent retry can hand it out again; only its hash is stored."""
        ...

    def secret_token(self) -> str:
        """A fresh secret of at least 256 random bits, URL-safe (sign-in links, sessions, API tokens)."""
        ...

    def calendar_feed_token(self, practitioner_id: str, generation: int) -> str:
        """The secret in the practitioner's calendar feed address: a keyed hash (as `cancel_token`),
        so the same generation gives the same token again; only its hash is stored."""
        ...


class PractitionerDirectory(Protocol):
    """Who can be booked. A removed practitioner is kept for the history of their bookings (their
    pages, e-mails, refunds still name them) but offered nowhere and booked no more."""

    async def get(self, practitioner_id: str, *, include_removed: bool = False) -> Practitioner | None:
        """The practitioner; a removed one only with `include_removed` (for their past bookings)."""
        ...

    async def list(self) -> Sequence[Practitioner]:
        """Every practitioner not removed, sorted by id."""
        ...

    async def upsert(self, practitioner: Practitioner) -> None:
        """Create or replace; a removed practitioner upserted again is back in the directory."""
        ...

    async def remove(self, practitioner_id: str, now: datetime) -> None:
        """Remove the practitioner, atomically with the check that no booking of theirs is ahead at
        `now` (`Booking.is_ahead`): else raise PractitionerHasLiveBookings and change nothing. From
        then on the booking store refuses new bookings of them (and late payments: SlotUnavailable).
        NotFound if there is no such practitioner (or they were removed already)."""
        ...


class BusySpans(Protocol):
    async def busy(self, practitioner_id: str, window: TimeRange, now: datetime) -> Sequence[TimeRange]:
        """What blocks the practitioner's slots within `window`, sorted: the occupied spans of
        bookings live at `now`, and the spans of their time off, that overlap `window`."""
        ...


class BookingStore(BusySpans, Protocol):
    """Where bookings and practitioners' time off live. Implementations guarantee, atomically and
    across processes, that no two live bookings of one practitioner have overlapping `occupied`
    spans, and that no live booking's occupied span overlaps the practitioner's time off: of a
    booking and a time off racing for the same time, one is refused (hence one port for both)."""

    async def add_if_free(
        self,
        booking: Booking,
        event: BookingEvent,
        caps: Caps | None = None,
        limits: Sequence[BookingLimit] = (),
    ) -> None:
        """Insert a new live booking unless a live booking's occupied span or the practitioner's
        time off overlaps its own: then raise SlotUnavailable. Pending bookings whose hold lapsed by
        `event.at` do not count; the store releases those it finds in the way (status expired,
        `payment_check_due` set, with a history event).

        With `caps`, first count the live unpaid holds (pending, hold not lapsed by `event.at`)
        that share the booking's client e-mail (case-insensitive), client phone, client_address
        (when it has one), and those of its practitioner whose slot starts within `caps.window`;
        raise `caps.refusal(...)` of those counts if it is an error (HoldCaps). With FreeBookingCaps,
        count instead the free bookings of its practitioner still to come at `event.at` (confirmed,
        price 0, slot not over) that share its e-mail, phone or client_address. Count and insert
        are one atomic step where the database allows it (see docs/security.md for the guarantee).

        With `limits` (its practitioner's, `Practitioner.limits_for`), count for each the
        practitioner's bookings live at `event.at` that it counts (`BookingLimit.counts`) and raise
        `limit.refusal(count)` if that is an error. Exact across processes: no two racing writes
        may both see room for the last booking (the guarantee the conflict rule has)."""
        ...

    async def save(
        self,
        before: Booking,
        after: Booking,
        event: BookingEvent | None,
        limits: Sequence[BookingLimit] = (),
    ) -> None:
        """Replace `before` with `after` if the stored version still equals `before.version`, else
        raise ConcurrentUpdate. `event` goes to the history.

        A change that claims time the booking did not hold (`claims_a_span`: it becomes live again
        after a late payment, or a live booking moves to another slot, Booking.reschedule) is
        checked like add_if_free: other live bookings' occupied spans (never its own: a move by
        less than its length overlaps where it was), time off and `limits` (for a move: those of
        the new start that the old one did not count against already; the booking itself is
        counted where it stood). Lapsed holds in the way are released. The loser raises
        SlotUnavailable (BookingLimitReached for a limit) and nothing changes. A move claims its
        new span and releases its old one in one transaction the database decides, so of a move
        and another booking, move or time off racing for the same time exactly one wins."""
        ...

    async def get(self, booking_id: str) -> Booking | None: ...

    async def find_by_idempotency_key(self, practitioner_id: str, key: str) -> Booking | None: ...

    async def add_time_off(self, time_off: TimeOff, now: datetime) -> None:
        """Store `time_off` unless bookings live at `now` of its practitioner occupy part of it:
        then raise TimeOffConflicts naming every one of them (earliest slot first) and store nothing.
        Holds lapsed by `now` in its way are released as add_if_free releases them."""
        ...

    async def time_off(self, practitioner_id: str, window: TimeRange) -> Sequence[TimeOff]:
        """The practitioner's time off that overlaps `window`, by start (then end, then id)."""
        ...

    async def remove_time_off(self, practitioner_id: str, time_off_id: str) -> TimeOff | None:
        """Delete the practitioner's time off `time_off_id` and return it; None if they have none
        of that id (another practitioner's is not theirs)."""
        ...

    async def bookings_of(
        self,
        practitioner_id: str,
        window: TimeRange,
        statuses: frozenset[BookingStatus] | None = None,
    ) -> Sequence[Booking]:
        """The practitioner's bookings whose slot (not buffers) overlaps `window` (touching is not
        overlapping), of any status or only of `statuses`, ordered by slot start, then id."""
        ...

    async def lapsed_holds(self, now: datetime, limit: int = 100) -> Sequence[Booking]:
        """Pending bookings whose hold lapsed by `now`, oldest first."""
        ...

    async def sessions_ended(self, now: datetime, limit: int = 100) -> Sequence[Booking]:
        """Confirmed bookings whose slot ended by `now` (not yet recorded as completed or a
        no-show), earliest end first."""
        ...

    async def payment_checks_due(self, limit: int = 100) -> Sequence[Booking]:
        """Bookings whose `payment_check_due` is set, least recently changed first. A lapsed hold
        that `add_if_free` or `save` releases in the way is stored with it set: only the payment
        provider can say whether it was paid meanwhile."""
        ...

    async def refunds_due(self, limit: int = 100) -> Sequence[Booking]:
        """Bookings that owe a refund (`refund_owed`) not yet issued (`refund_id` is None), oldest first."""
        ...

    async def history(self, booking_id: str) -> Sequence[BookingEvent]:
        """Every event of the booking, in order."""
        ...

    async def is_payment_event_processed(self, event_id: str) -> bool: ...

    async def mark_payment_event_processed(self, event_id: str, at: datetime) -> None:
        """Record the event id; recording it twice is harmless."""
        ...


@frozen
class DeliveryRecord:
    """What the outbox did with one event on one channel (e-mail to the client, a webhook, ...)."""

    channel: str
    seq: int
    event: BookingEvent
    attempts: int  # failed attempts
    delivered_at: datetime | None
    last_error: str

    @property
    def booking_id(self) -> str:
        return self.event.booking_id


@frozen
class ReminderRecord:
    """What the ReminderLedger did with one reminder of a booking: sent, or tried and failed."""

    reminder: Reminder  # which booking, the start it reminded of, its offset and channel
    sent_at: datetime | None
    attempts: int  # failed attempts
    last_error: str

    @property
    def booking_id(self) -> str:
        return self.reminder.booking_id


class ClientDataStore(Protocol):
    """What the store holds about clients, by their e-mail address (ignoring case): for a copy of it
    (export), its erasure, and its retention (booking_core.client_data)."""

    async def bookings_of_client(self, email: str) -> Sequence[Booking]:
        """Every booking whose client e-mail is `email`, ignoring case, by creation (then id)."""
        ...

    async def deliveries_of(self, booking_ids: Sequence[str]) -> Sequence[DeliveryRecord]:
        """The outbox's record of those bookings' events on every channel, by seq then channel."""
        ...

    async def reminders_of(self, booking_ids: Sequence[str]) -> Sequence[ReminderRecord]:
        """The ReminderLedger's record of those bookings' reminders that were sent or failed at least
        once (not those only claimed), by booking, start, due time (larger offset first), channel."""
        ...

    async def anonymise(
        self, booking_ids: Sequence[str], erased: ClientDetails, scrub: Sequence[str], at: datetime
    ) -> int:
        """In one transaction: give those bookings the client details `erased` and forget their
        client_address and request_hash (a hash of the details), as a change (`version` + 1,
        `updated_at` = `at`: a concurrent save of the details read before is refused); and in their
        history's reasons and their deliveries' errors replace each of `scrub` (ignoring case) with
        "[erased]" (and in any other record of them the store keeps: failed reminders' errors).
        Nothing about times or money changes. Stores that keep copies of overwritten
        data (a database file's free pages, a journal) overwrite them too. How many bookings changed."""
        ...

    async def identified_sessions_ended(self, ended_by: datetime, limit: int = 100) -> Sequence[Booking]:
        """Bookings whose slot ended by `ended_by` whose client details are not erased yet, earliest
        end first (retention)."""
        ...


class SentMailCopies(Protocol):
    """Copies of e-mails this service keeps where it runs (the development mailbox folder; none
    when mail goes out by SMTP)."""

    async def mentioning(self, needles: Sequence[str]) -> Sequence[SentMailCopy]:
        """Every copy that mentions any of `needles` (ignoring case) in its headers or decoded text."""
        ...

    async def erase(self, needles: Sequence[str]) -> int:
        """Delete every copy `mentioning` would find, overwritten first; how many."""
        ...


@frozen
class SentMailCopy:
    name: str  # where it is kept (a file name)
    to: str
    subject: str
    date: str
    text: str  # the plain text body


class CredentialStore(Protocol):
    """Practitioners' secrets, by the SHA-256 of each (`hash_token`): sign-in links, sessions, API
    tokens (booking_core.practitioner_access). Only valid ones are found: not expired at `now`,
    not taken, not revoked."""

    async def add(self, credential: Credential, now: datetime) -> None:
        """Store `credential`; those that expired by `now` (of anyone) may be forgotten meanwhile."""
        ...

    async def find(self, kind: CredentialKind, token_hash: str, now: datetime) -> Credential | None:
        """The valid credential of `kind` with this hash, if any."""
        ...

    async def take(self, kind: CredentialKind, token_hash: str, now: datetime) -> Credential | None:
        """Find and remove in one atomic step (single use): of concurrent takers, one gets it."""
        ...

    async def revoke(self, kind: CredentialKind, token_hash: str) -> None:
        """Remove the credential if it exists (revoking twice is harmless)."""
        ...

    async def revoke_all(self, practitioner_id: str, kind: CredentialKind) -> int:
        """Remove every credential of `kind` of the practitioner; how many there were."""
        ...


class CalendarFeedKeys(Protocol):
    """Where each practitioner's calendar feed key is kept (one per practitioner)."""

    async def key_of(self, practitioner_id: str) -> FeedKey | None: ...

    async def key_by_hash(self, token_hash: str) -> FeedKey | None:
        """The key whose token has this SHA-256, if it is a practitioner's current one."""
        ...

    async def put(self, key: FeedKey) -> None:
        """Store the practitioner's key, replacing the one they had (whose address then opens nothing)."""
        ...


@frozen
class OutboxItem:
    """A history event waiting to be delivered on one channel (e-mail, webhooks, Cal.com, ...)."""

    seq: int  # the event's position in the history; increases with every event
    event: BookingEvent
    attempts: int  # failed attempts so far on this channel


@frozen
class DeliveryFailure:
    channel: str
    seq: int
    booking_id: str
    attempts: int
    last_error: str
    next_attempt_at: datetime | None  # None: given up


class Outbox(Protocol):
    """The booking history doubles as a transactional outbox: every event the store records in the
    transaction of its change is delivered, per channel, at least once and in order of `seq`.

    Several workers (processes) may claim at once; a claim leases items so that they are not handed
    out twice while a delivery is under way. Receivers deduplicate by the event's identity."""

    async def claim(
        self, channel: str, now: datetime, *, limit: int = 50, lease_seconds: int = 60
    ) -> Sequence[OutboxItem]:
        """Due items of `channel` (never delivered, not given up, next attempt <= now, not leased),
        oldest first, leased until now + lease. A channel seen for the first time starts after the
        events already in the history, so adding a channel does not replay the past."""
        ...

    async def mark_delivered(self, channel: str, seqs: Sequence[int], at: datetime) -> None:
        """Record the delivery of each of `seqs` (a relay records a claimed batch at once)."""
        ...

    async def mark_failed(
        self, channel: str, seq: int, at: datetime, error: str, retry_at: datetime | None
    ) -> None:
        """Record a failed attempt; `retry_at=None` gives up (stays visible in `failures`)."""
        ...

    async def failures(self, channel: str | None = None) -> Sequence[DeliveryFailure]:
        """Items whose last attempt failed (retrying or given up)."""
        ...


class ReminderLedger(Protocol):
    """The reminders sent, beside the bookings they are of (booking_core.reminders: none is stored
    before it is sent). Several workers (processes, hosts) may claim at once; a claim leases what it
    hands out, so each reminder is sent by one of them, once."""

    async def upcoming(self, now: datetime, within: timedelta) -> Sequence[UpcomingBooking]:
        """Confirmed bookings starting after `now` and at most `within` later, each with the time it
        last took its slot confirmed and the offsets already sent for its current start."""
        ...

    async def claim(
        self, reminders: Sequence[Reminder], now: datetime, *, lease_seconds: int = 60
    ) -> Sequence[Reminder]:
        """Those of `reminders` this caller may send now, leased until now + lease: not sent, not
        leased by another (nor waiting for a retry), their booking still confirmed at that start."""
        ...

    async def mark_sent(self, reminders: Sequence[Reminder], at: datetime) -> None:
        """Record each as sent: never claimed again."""
        ...

    async def mark_failed(self, reminder: Reminder, at: datetime, error: str, retry_at: datetime) -> None:
        """Record a failed attempt; it may be claimed again from `retry_at`."""
        ...


class AvailabilitySource(Protocol):
    async def candidate_slots(
        self,
        practitioner: Practitioner,
        window: TimeRange,
        *,
        fresh: bool = False,
        service: Service | None = None,
        moving: Booking | None = None,
    ) -> CandidateSlots:
        """Slots of `service` (None: the practitioner's first) on offer starting within `window`,
        before bookings held here are taken out; they last the service's length
        (`practitioner.offer_for(service)`). `fresh=True` bypasses caches (used right before holding
        a slot). `moving`: the slots are for this booking's move, so a source that holds the
        booking itself (a calendar it was written to) offers its time as if it were free. Raises
        AvailabilityProviderError when the source cannot answer."""
        ...


class PaymentGateway(Protocol):
    async def start_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        """Raises PaymentProviderError with a message a client can read."""
        ...

    async def expire_checkout(self, session_id: str) -> PaymentEvent:
        """Close an open checkout so it can no longer be paid, and say what it is now (as
        `checkout_status` does): expired, or completed (paid or not) when the client finished first,
        which the provider reports by refusing to expire it. Closing a closed one is harmless."""
        ...

    async def refund(
        self, payment_intent_id: str, amount: Money, idempotency_key: str, booking_id: str
    ) -> Refund:
        """Refund `amount` of a payment; the provider keeps `booking_id` with the refund so that its
        later refund events name the booking."""
        ...

    async def checkout_status(self, session_id: str) -> PaymentEvent:
        """What the provider says of a checkout now, as a synthetic event (for reconciliation)."""
        ...

    def verify_webhook(self, payload: bytes, headers: Mapping[str, str]) -> PaymentEvent:
        """The verified event in a webhook request; raises InvalidSignature."""
        ...


class BookingChangeListener(Protocol):
    """Hears every booking transition once it is committed (the web service counts them, voids its
    availability cache and wakes the outbox relay; e-mails and webhooks go through the outbox), and
    every change to a practitioner's time off (which changes their availability as bookings do)."""

    async def booking_changed(
        self, booking: Booking, event: BookingEvent, practitioner: Practitioner
    ) -> None:
        """A booking changed: `event` is the transition just committed."""
        ...

    async def time_off_changed(self, time_off: TimeOff) -> None:
        """`time_off` was just added or removed."""
        ...


# The name before it said what the port is for; kept because booking_core exported it.
Notifier = BookingChangeListener


class PractitionerCancellation(Protocol):
    """The one use case an outbox channel may start: cancelling on the practitioner's side (the
    Cal.com write-back, when the practitioner's calendar took the slot meanwhile)."""

    async def cancel_for_practitioner(self, booking_id: str, reason: str) -> Booking: ...
