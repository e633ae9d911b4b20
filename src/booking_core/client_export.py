"""A copy of everything held about a client, by their e-mail address (GDPR article 15): their
bookings with each one's history, what the outbox did with it and the reminders sent of it (or
tried), and the copies of e-mails kept."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from attrs import frozen

from booking_core.booking import Booking, BookingEvent
from booking_core.ports import (
    BookingStore,
    ClientDataStore,
    Clock,
    DeliveryRecord,
    ReminderRecord,
    SentMailCopies,
    SentMailCopy,
)


@frozen
class ClientBookingRecord:
    booking: Booking
    history: Sequence[BookingEvent]
    deliveries: Sequence[DeliveryRecord]  # e-mails, webhooks, calendar write-backs of its events
    reminders: Sequence[ReminderRecord] = ()  # sent, or tried and failed


@frozen
class ClientRecord:
    email: str  # as asked for
    exported_at: datetime
    bookings: Sequence[ClientBookingRecord]
    mail_copies: Sequence[SentMailCopy]


@frozen
class ClientDataExport:
    store: BookingStore
    client_data: ClientDataStore
    mail: SentMailCopies
    clock: Clock

    async def export(self, email: str) -> ClientRecord:
        email = email.strip()
        bookings = await self.client_data.bookings_of_client(email)
        ids = [b.id for b in bookings]
        deliveries = await self.client_data.deliveries_of(ids)
        reminders = await self.client_data.reminders_of(ids)
        records = [
            ClientBookingRecord(
                booking,
                await self.store.history(booking.id),
                [d for d in deliveries if d.booking_id == booking.id],
                [r for r in reminders if r.booking_id == booking.id],
            )
            for booking in bookings
        ]
        copies = await self.mail.mentioning([email, *(b.id for b in bookings)]) if email else []
        return ClientRecord(email, self.clock.now(), records, copies)
