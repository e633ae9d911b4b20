"""Erasing a client (GDPR article 17): their name, e-mail and phone are replaced everywhere this
service stores them (`ERASED`), keeping every time and amount (money records are kept for
accounting: docs/privacy.md); copies of e-mails about them are deleted. Retention
(client_retention.py) erases bookings the same way once their time has come."""

from __future__ import annotations

import re
from collections.abc import Sequence

from attrs import frozen

from booking_core.booking import Booking
from booking_core.client import ERASED
from booking_core.errors import ClientBookingsAhead
from booking_core.ports import ClientDataStore, Clock, SentMailCopies


@frozen
class Erased:
    bookings: int  # bookings anonymised
    mail_copies: int  # copies of e-mails deleted


@frozen
class ClientErasure:
    client_data: ClientDataStore
    mail: SentMailCopies
    clock: Clock

    async def erase(self, email: str) -> Erased:
        """Erase every booking of the client with this address (ignoring case). Refused, with
        nothing changed, while any of them is still to come (`ClientBookingsAhead`): cancel those
        first. Erasing again finds nothing more."""
        email = email.strip()
        if not email:
            return Erased(0, 0)
        bookings = await self.client_data.bookings_of_client(email)
        now = self.clock.now()
        ahead = [booking.id for booking in bookings if booking.is_ahead(now)]
        if ahead:
            raise ClientBookingsAhead(ahead)
        return await self.anonymise(bookings, also=[email])

    async def anonymise(self, bookings: Sequence[Booking], also: Sequence[str] = ()) -> Erased:
        """Anonymise `bookings` (not yet erased) and delete the copies of e-mails about them."""
        found = [booking for booking in bookings if not booking.client.is_erased]
        if not found and not also:
            return Erased(0, 0)
        details = personal_details(found, also)
        changed = await self.client_data.anonymise([b.id for b in found], ERASED, details, self.clock.now())
        deleted = await self.mail.erase([*details, *(b.id for b in found)])
        return Erased(changed, deleted)


def personal_details(bookings: Sequence[Booking], also: Sequence[str] = ()) -> list[str]:
    """The names, addresses and phone numbers of `bookings`' clients (and `also`), each once,
    longest first (so that a name inside a longer text is replaced as a whole)."""
    texts = {*also}
    for booking in bookings:
        texts.update((booking.client.name, booking.client.email, booking.client.phone))
    texts.discard("")
    return sorted(texts, key=lambda text: (-len(text), text))


ERASED_TEXT = "[erased]"


def scrub(text: str, details: Sequence[str]) -> str:
    """`text` with each of `details` replaced by ERASED_TEXT, ignoring case (what stores do to free
    text that may name a client: a practitioner's reason for cancelling, a delivery's error)."""
    if not details or not text:
        return text
    pattern = "|".join(re.escape(detail) for detail in sorted(details, key=len, reverse=True) if detail)
    return re.sub(pattern, ERASED_TEXT, text, flags=re.IGNORECASE) if pattern else text
