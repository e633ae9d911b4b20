"""How many unpaid holds may be live at once: holds cost nothing, so without a cap one client (or a
few) could keep a practitioner's whole week held without ever paying.

A client may have `per_client` live unpaid holds per e-mail address (case-insensitive), per phone
number (E.164) and per network address (an IPv4 address, or the /64 of an IPv6 one, which one
household or phone usually has to itself). Whatever the clients, at most `practitioner_share` of a
practitioner's slots offered within the week around a requested slot may be held unpaid at once.

A free booking is confirmed at once, so it holds a slot without a hold's lapse: a client may have
`free_per_client` free bookings of one practitioner that are still to come (confirmed, session not
over) per e-mail address, phone number and network address (`FreeBookingCaps`).
"""

from __future__ import annotations

import ipaddress
import math
from datetime import timedelta

from attrs import frozen

from booking_core.errors import TooManyFreeBookings, TooManyHolds
from booking_core.timerange import TimeRange

IPV6_PREFIX = 64
_WHOSE = {
    "email": "this e-mail address",
    "phone": "this phone number",
    "client_address": "your network address",
}


@frozen
class HoldCaps:
    """The caps one new hold is checked against, in the store's write that inserts it."""

    per_client: int  # live unpaid holds that may share the new one's e-mail, phone or network
    practitioner: int  # live unpaid holds of its practitioner that may start within `window`
    window: TimeRange
    hold_duration: timedelta  # how long the new hold lasts: the longest anyone waits for one to lapse

    def refusal(self, email: int, phone: int, client_address: int, practitioner: int) -> TooManyHolds | None:
        """The error for a new hold, given the live unpaid holds counted beside it, or None if it fits."""
        for limit, count in (("email", email), ("phone", phone), ("client_address", client_address)):
            if count >= self.per_client:
                return TooManyHolds(
                    limit,
                    f"{count} bookings made with {_WHOSE[limit]} are waiting for payment. Please "
                    "finish paying for one of them or cancel it, or wait until its hold lapses "
                    f"(within {_minutes(self.hold_duration)} minutes), then try again.",
                )
        if practitioner >= self.practitioner:
            return TooManyHolds(
                "practitioner",
                "Too many of this practitioner's times are being held for payment right now. "
                f"Please try again within {_minutes(self.hold_duration)} minutes, when unpaid holds lapse.",
            )
        return None


@frozen
class FreeBookingCaps:
    """The cap one new free booking is checked against, in the store's write that inserts it."""

    # free bookings of its practitioner still to come that may share its e-mail, phone or network
    per_client: int

    def refusal(self, email: int, phone: int, client_address: int) -> TooManyFreeBookings | None:
        """The error for a new free booking, given the client's free bookings of the practitioner
        still to come, counted beside it, or None if it fits."""
        for limit, count in (("email", email), ("phone", phone), ("client_address", client_address)):
            if count >= self.per_client:
                return TooManyFreeBookings(
                    limit,
                    f"{count} free bookings with this practitioner are already made with "
                    f"{_WHOSE[limit]}. Please cancel one of them, or book again once one has taken place.",
                )
        return None


# What the store checks a new booking against: the caps of unpaid holds, or of free bookings.
Caps = HoldCaps | FreeBookingCaps


@frozen
class HoldLimits:
    """The policy, configurable per deployment (HOLD_LIMIT_PER_CLIENT, HOLD_LIMIT_PRACTITIONER_SHARE,
    FREE_BOOKING_LIMIT_PER_CLIENT)."""

    per_client: int = 2
    practitioner_share: float = 0.5
    practitioner_window: timedelta = timedelta(days=7)
    free_per_client: int = 2

    def free_caps(self) -> FreeBookingCaps:
        return FreeBookingCaps(self.free_per_client)

    def window_around(self, slot: TimeRange) -> TimeRange:
        """The week centred on a requested slot: its practitioner's share is counted within it."""
        half = self.practitioner_window / 2
        return TimeRange(slot.start - half, slot.start + half)

    def caps(self, offered_in_window: int, window: TimeRange, hold_duration: timedelta) -> HoldCaps:
        """Caps for a hold in `window`, where the practitioner offers `offered_in_window` slots
        (free or not); one hold of the practitioner's is always possible."""
        share = max(1, math.floor(offered_in_window * self.practitioner_share))
        return HoldCaps(self.per_client, share, window, hold_duration)


def _minutes(duration: timedelta) -> int:
    return math.ceil(duration.total_seconds() / 60)


def client_network(address: str | None) -> str | None:
    """What the per-address cap counts: an IPv4 address as it is, an IPv6 address as its /64
    (an IPv4-mapped one as the IPv4 address); None for anything that is not an IP address."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # a zone index (fe80::1%eth0) is local
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_PREFIX), strict=False))
    return str(ip)
