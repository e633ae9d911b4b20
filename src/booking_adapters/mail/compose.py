"""E-mails from templates: a plain-text and an autoescaped HTML part per message, an optional
calendar invite, and headers that make a retry byte-for-byte the same message."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from enum import StrEnum

import jinja2
from attrs import define, field, frozen

from booking_adapters.mail.invite import InviteMethod


class MessageKind(StrEnum):
    """One pair of templates each: `<kind>.txt` and `<kind>.html`."""

    CLIENT_CONFIRMED = "client_confirmed"
    PRACTITIONER_CONFIRMED = "practitioner_confirmed"
    CLIENT_CANCELLED = "client_cancelled"
    PRACTITIONER_CANCELLED = "practitioner_cancelled"
    CLIENT_REFUNDED = "client_refunded"
    CLIENT_REMINDER = "client_reminder"  # before the session (booking_core.reminders), not an event
    CLIENT_RESCHEDULED = "client_rescheduled"
    PRACTITIONER_RESCHEDULED = "practitioner_rescheduled"
    SIGN_IN_LINK = "sign_in_link"  # to a practitioner who asked to sign in; no booking involved


_SUBJECTS = {
    MessageKind.CLIENT_CONFIRMED: "Confirmed: your session with {{ practitioner_name }} on {{ when }}",
    MessageKind.PRACTITIONER_CONFIRMED: "New booking: {{ client_name }} on {{ when }}",
    MessageKind.CLIENT_CANCELLED: "Cancelled: your session with {{ practitioner_name }} on {{ when }}",
    MessageKind.PRACTITIONER_CANCELLED: "Cancelled: {{ client_name }} on {{ when }}",
    MessageKind.CLIENT_REFUNDED: "Refund: your payment to {{ practitioner_name }}",
    MessageKind.CLIENT_REMINDER: "Reminder: your session with {{ practitioner_name }} on {{ when }}",
    MessageKind.CLIENT_RESCHEDULED: "Moved: your session with {{ practitioner_name }} is now on {{ when }}",
    MessageKind.PRACTITIONER_RESCHEDULED: "Moved: {{ client_name }} is now on {{ when }}",
    MessageKind.SIGN_IN_LINK: "Your sign-in link",
}


@frozen
class Recipient:
    name: str
    email: str


@frozen
class Invite:
    method: InviteMethod
    ics: bytes


@frozen
class Letter:
    """Everything one e-mail says; `message_id` and `date` are fixed by the caller so that
    composing the same letter twice gives the same bytes."""

    kind: MessageKind
    to: Recipient
    context: Mapping[str, object]
    message_id: str
    date: datetime
    invite: Invite | None = None


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("booking_adapters.mail", "templates"),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


@define
class MailComposer:
    sender: str  # MAIL_FROM, e.g. "Bookings <bookings@example.org>"
    _env: jinja2.Environment = field(factory=_environment, alias="env")

    def compose(self, letter: Letter) -> EmailMessage:
        context = dict(letter.context)
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = Address(display_name=letter.to.name, addr_spec=letter.to.email)
        message["Subject"] = self._env.from_string(_SUBJECTS[letter.kind]).render(context)
        message["Date"] = format_datetime(letter.date)
        message["Message-ID"] = letter.message_id
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
        message.set_content(self._env.get_template(f"{letter.kind}.txt").render(context))
        message.add_alternative(self._env.get_template(f"{letter.kind}.html").render(context), subtype="html")
        if letter.invite is not None:
            message.add_attachment(
                letter.invite.ics.decode(),
                subtype="calendar",
                filename="invite.ics",
                params={"method": letter.invite.method.value},
            )
        _fix_boundaries(message, letter.message_id)
        return message


def _fix_boundaries(message: EmailMessage, seed: str) -> None:
    """MIME boundaries are random by default; derive them from the Message-ID instead."""
    digest = hashlib.sha256(seed.encode()).hexdigest()[:24]
    for number, part in enumerate(message.walk()):
        if part.is_multipart():
            part.set_boundary(f"=_{digest}_{number}")
