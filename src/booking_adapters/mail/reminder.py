"""The client's reminder before their session (booking_core.reminders), by e-mail: said as the
client channel says everything else of the booking, with the manage link and the location."""

from __future__ import annotations

import hashlib

from attrs import frozen

from booking_adapters.mail.channel import Audience, EmailChannel
from booking_adapters.mail.compose import Letter, MessageKind, Recipient
from booking_core import EMAIL_REMINDERS, Booking, Practitioner, Reminder


def reminder_message_id(reminder: Reminder, recipient_email: str, host: str) -> str:
    """Fixed by the reminder (booking, start, offset) and recipient: a send repeated after a crash
    carries the same id, so receivers can drop it; the address is hashed so the id reveals nothing."""
    offset = int(reminder.offset.total_seconds())
    key = (
        f"{reminder.booking_id}:reminder:{reminder.slot_start.isoformat()}:{offset}:{recipient_email.lower()}"
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"<{digest}@{host}>"


@frozen
class ReminderMail:
    """A ReminderSender over the client's e-mail channel (its transport, composer and links)."""

    client_channel: EmailChannel
    channel: str = EMAIL_REMINDERS

    def __attrs_post_init__(self) -> None:
        if self.client_channel.audience is not Audience.CLIENT:
            raise ValueError("reminders go to the client: give the client's e-mail channel")

    async def send(self, reminder: Reminder, booking: Booking, practitioner: Practitioner) -> None:
        mail = self.client_channel
        to = Recipient(booking.client.name, booking.client.email)
        letter = Letter(
            kind=MessageKind.CLIENT_REMINDER,
            to=to,
            context=mail.booking_context(booking, practitioner),
            message_id=reminder_message_id(reminder, to.email, mail.host),
            date=reminder.due_at,
        )
        await mail.transport.send(mail.composer.compose(letter))
