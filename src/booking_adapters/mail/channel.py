"""The e-mail channels of the outbox relay: what each booking event means to the client and to the
practitioner, composed from the booking as it is now (a move: at the times the event recorded)
and handed to the transport."""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.utils import parseaddr
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from attrs import define, field

from booking_adapters.mail.compose import Invite, Letter, MailComposer, MessageKind, Recipient
from booking_adapters.mail.invite import InviteMethod, calendar_invite, uid_host
from booking_adapters.mail.transport import MailTransport
from booking_core import (
    CANCELLATIONS,
    CLIENT_CANCELLED,
    CLIENT_MOVED,
    CONFIRMATIONS,
    PRACTITIONER_CANCELLED,
    PRACTITIONER_MOVED,
    Booking,
    BookingEvent,
    BookingStatus,
    BookingStore,
    IdGenerator,
    OutboxItem,
    Practitioner,
    PractitionerDirectory,
    ProviderError,
    TimeRange,
    Trigger,
    zone,
)


class Audience(StrEnum):
    CLIENT = "client"
    PRACTITIONER = "practitioner"


_INVITES = {
    MessageKind.CLIENT_CONFIRMED: InviteMethod.REQUEST,
    MessageKind.PRACTITIONER_CONFIRMED: InviteMethod.REQUEST,
    MessageKind.CLIENT_CANCELLED: InviteMethod.CANCEL,
    MessageKind.PRACTITIONER_CANCELLED: InviteMethod.CANCEL,
    MessageKind.CLIENT_RESCHEDULED: InviteMethod.REQUEST,
    MessageKind.PRACTITIONER_RESCHEDULED: InviteMethod.REQUEST,
}
_STILL_CONFIRMED = frozenset(
    {
        MessageKind.CLIENT_CONFIRMED,
        MessageKind.PRACTITIONER_CONFIRMED,
        MessageKind.CLIENT_RESCHEDULED,
        MessageKind.PRACTITIONER_RESCHEDULED,
    }
)


def message_kind(audience: Audience, event: BookingEvent) -> MessageKind | None:
    """The e-mail `event` asks for on `audience`'s side, if any. Holds, expiries and refunds of
    cancelled bookings (announced in the cancellation mail) send nothing; nor does the move of an
    unpaid hold (its confirmation, when paid, names the time it then has)."""
    client = audience is Audience.CLIENT
    if event.trigger in CONFIRMATIONS:
        return MessageKind.CLIENT_CONFIRMED if client else MessageKind.PRACTITIONER_CONFIRMED
    if event.trigger in CANCELLATIONS and event.from_status is BookingStatus.CONFIRMED:
        return MessageKind.CLIENT_CANCELLED if client else MessageKind.PRACTITIONER_CANCELLED
    if event.trigger is Trigger.RESCHEDULED and event.from_status is BookingStatus.CONFIRMED:
        return MessageKind.CLIENT_RESCHEDULED if client else MessageKind.PRACTITIONER_RESCHEDULED
    if event.trigger is Trigger.REFUND_ISSUED and event.to_status is BookingStatus.REFUNDED and client:
        return MessageKind.CLIENT_REFUNDED
    return None


def message_id(event: BookingEvent, recipient_email: str, host: str) -> str:
    """Fixed by (booking, trigger, recipient), and for a move its time (a booking moves more than
    once): a redelivery after a crash carries the same id, so receivers can drop it; the address is
    hashed so that the id reveals nothing."""
    moved_at = f":{event.at.timestamp()}" if event.trigger is Trigger.RESCHEDULED else ""
    key = f"{event.booking_id}:{event.trigger}{moved_at}:{recipient_email.lower()}"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{host}>"


@define
class EmailChannel:
    """One channel per audience: the outbox then records per recipient what went out, so a retry
    for the practitioner never repeats the client's mail."""

    audience: Audience
    store: BookingStore
    directory: PractitionerDirectory
    ids: IdGenerator
    transport: MailTransport
    composer: MailComposer
    public_base_url: str
    name: str = field(init=False)

    def __attrs_post_init__(self) -> None:
        self.name = f"email:{self.audience}"

    @property
    def host(self) -> str:
        return uid_host(self.public_base_url)

    def cancel_url(self, booking_id: str) -> str:
        return self._client_link(booking_id, "cancel")

    def manage_url(self, booking_id: str) -> str:
        """The client's page of their booking, where they cancel or move it."""
        return self._client_link(booking_id, "manage")

    def _client_link(self, booking_id: str, page: str) -> str:
        token = self.ids.cancel_token(booking_id)
        return f"{self.public_base_url.rstrip('/')}/booking/{quote(booking_id)}/{page}?token={quote(token)}"

    async def deliver(self, item: OutboxItem) -> None:
        event = item.event
        kind = message_kind(self.audience, event)
        if kind is None:
            return
        booking = await self.store.get(event.booking_id)
        if booking is None:
            raise ProviderError(f"booking {event.booking_id} is gone", retryable=False)
        if kind in _STILL_CONFIRMED and booking.status is not BookingStatus.CONFIRMED:
            return  # cancelled before this went out: the cancellation says all there is to say
        practitioner = await self.directory.get(booking.practitioner_id, include_removed=True)
        if practitioner is None:
            raise ProviderError(f"practitioner {booking.practitioner_id} is gone", retryable=False)
        recipient = self._recipient(booking, practitioner)
        if recipient is None:
            return  # a practitioner without an e-mail address, an erased client: no e-mail
        moves = await self._moves_until(event, booking)
        await self.transport.send(
            self.composer.compose(self._letter(kind, event, booking, practitioner, recipient, moves))
        )

    async def _moves_until(self, event: BookingEvent, booking: Booking) -> int:
        """How many moves the booking had made once `event` happened: its invite's version. Counted
        in the history, as the booking may have moved again since."""
        if event.trigger is not Trigger.RESCHEDULED:
            return booking.reschedule_count
        history = await self.store.history(booking.id)
        return sum(e.trigger is Trigger.RESCHEDULED and e.at <= event.at for e in history)

    def _recipient(self, booking: Booking, practitioner: Practitioner) -> Recipient | None:
        if self.audience is Audience.CLIENT:
            # an erased client is written to no more (their address is of no domain anyway)
            return None if booking.client.is_erased else Recipient(booking.client.name, booking.client.email)
        return Recipient(practitioner.name, practitioner.email) if practitioner.email else None

    def _letter(
        self,
        kind: MessageKind,
        event: BookingEvent,
        booking: Booking,
        practitioner: Practitioner,
        recipient: Recipient,
        moves: int,
    ) -> Letter:
        slot = _slot_after(event, booking)
        method = _INVITES.get(kind)
        invite = None
        if method is not None:
            organizer = parseaddr(self.composer.sender)[1]
            ics = calendar_invite(
                booking,
                practitioner,
                method,
                host=self.host,
                organizer=organizer,
                stamp=event.at,
                slot=slot,
                moves=moves,
            )
            invite = Invite(method, ics)
        return Letter(
            kind=kind,
            to=recipient,
            context=self._context(event, booking, practitioner, slot),
            message_id=message_id(event, recipient.email, self.host),
            date=event.at,
            invite=invite,
        )

    def _context(
        self, event: BookingEvent, booking: Booking, practitioner: Practitioner, slot: TimeRange
    ) -> dict[str, Any]:
        """The booking's context, its time where `event` took it (`slot`), and for a move the time
        it left."""
        timezone = self._timezone(booking, practitioner)
        before = event.moved_from
        return self.booking_context(booking, practitioner) | {
            "when": _when(slot.start, slot.end, timezone),
            "previous_when": _when(before.start, before.end, timezone) if before else None,
            "reason": event.reason,
            "practitioners_reason": _practitioners_reason(event),
        }

    def _timezone(self, booking: Booking, practitioner: Practitioner) -> str:
        return booking.client_timezone if self.audience is Audience.CLIENT else practitioner.timezone

    def booking_context(self, booking: Booking, practitioner: Practitioner) -> dict[str, Any]:
        """What every e-mail of `booking` may say of it, in the audience's time zone."""
        timezone = self._timezone(booking, practitioner)
        refund = booking.amount_refunded or booking.refund_owed
        return {
            "booking_id": booking.id,
            "practitioner_name": practitioner.name,
            "client_name": booking.client.name,
            "client_email": booking.client.email,
            "when": _when(booking.slot.start, booking.slot.end, timezone),
            "timezone": timezone,
            "duration_minutes": int(booking.slot.duration.total_seconds() // 60),
            "service_name": booking.service_name,
            "price": "nothing (free)" if booking.is_free else str(booking.amount_paid or booking.price),
            "refund": str(refund) if refund and refund.amount else None,
            "location": _location(booking, practitioner),
            "cancel_url": self.cancel_url(booking.id),
            "manage_url": self.manage_url(booking.id),
            "cancellation_terms": practitioner.offer.cancellation.terms_for(booking.price),
        }


def _location(booking: Booking, practitioner: Practitioner) -> str | None:
    """Where the session takes place: its service's location as it is now (None: not set, or the
    service is no longer offered)."""
    offered = [service for service in practitioner.offered_services if service.id == booking.service_id]
    return offered[0].location if offered else None


def _slot_after(event: BookingEvent, booking: Booking) -> TimeRange:
    """The time the mail is about: where a move took the booking (it may have moved again since),
    else where it is now."""
    if event.trigger is not Trigger.RESCHEDULED:
        return booking.slot
    if event.moved_to is None:
        raise ProviderError(f"the move of booking {event.booking_id} has no times recorded", retryable=False)
    return event.moved_to


# The reasons recorded when nobody gave one: they say nothing the message does not.
_DEFAULT_REASONS = frozenset({CLIENT_CANCELLED, PRACTITIONER_CANCELLED, CLIENT_MOVED, PRACTITIONER_MOVED})


def _practitioners_reason(event: BookingEvent) -> str | None:
    """What the practitioner gave as the reason for cancelling or moving, if they gave one."""
    if event.trigger not in (Trigger.CANCELLED, Trigger.RESCHEDULED) or event.reason in _DEFAULT_REASONS:
        return None
    return event.reason


def _when(start: datetime, end: datetime, timezone: str) -> str:
    tz = zone(timezone)
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    return f"{local_start:%A} {local_start.day} {local_start:%B %Y, %H:%M}-{local_end:%H:%M}"


def email_channels(
    *,
    store: BookingStore,
    directory: PractitionerDirectory,
    ids: IdGenerator,
    transport: MailTransport,
    composer: MailComposer,
    public_base_url: str,
) -> list[EmailChannel]:
    """The client's and the practitioner's channel, sharing one transport."""
    return [
        EmailChannel(audience, store, directory, ids, transport, composer, public_base_url)
        for audience in Audience
    ]
