"""What a booking's Checkout Session asks the payment provider for: opened for a new hold
(`BookingService.request_booking`), and again when an unpaid hold moves (`Rescheduling`), so that
the payment page always names the time the client is paying for."""

from __future__ import annotations

from booking_core.booking import Booking
from booking_core.offer import Practitioner, Service
from booking_core.payment import CheckoutRequest
from booking_core.schedule import zone
from booking_core.timerange import TimeRange


def checkout_for(
    booking: Booking, practitioner: Practitioner, service: Service, slot: TimeRange, idempotency_key: str
) -> CheckoutRequest:
    """The checkout of `booking` for `slot` (its own, or the one it is moving to)."""
    return CheckoutRequest(
        booking_id=booking.id,
        product_name=product_name(practitioner, service, slot),
        amount=booking.price,
        customer_email=booking.client.email,
        expires_at=booking.hold_expires_at,
        idempotency_key=idempotency_key,
    )


def first_checkout_key(booking: Booking) -> str:
    return f"checkout-{booking.id}"


def move_checkout_key(booking: Booking, nonce: str) -> str:
    """The key of the checkout replacing `booking`'s for its next move: one per attempt (`nonce`, a
    fresh random string). The provider refuses a key reused with other parameters, and a second
    attempt differs (another time, or the session's expiry, which the Stripe adapter counts from
    the moment of asking): the key guards the SDK's retries of one request, not retries of a move."""
    return f"checkout-{booking.id}-move-{booking.reschedule_count + 1}-{nonce[:24]}"


def product_name(practitioner: Practitioner, service: Service, slot: TimeRange) -> str:
    local = slot.start.astimezone(zone(practitioner.timezone))
    # The service is named only where the practitioner lists services: names read as before otherwise.
    what = f"{service.name}, " if practitioner.services else ""
    return f"{practitioner.name}, {what}{local:%a %d %b %Y %H:%M} ({practitioner.timezone})"
