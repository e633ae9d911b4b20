"""Asking the payment provider about a pending booking when its client looks at it.

Stripe recommends fulfilling on the return page too, not only from the webhook: the success page
(with the session id Checkout appends) and `GET /api/bookings/{id}` ask for the booking's Checkout
Session and apply a payment through the webhook's path (`BookingService.check_checkout`). Both are
polled (the page refreshes every few seconds), so each booking is asked about at most once per
`interval_seconds` in this process, and the memory that remembers it is bounded: nobody can make the
service call Stripe in a loop, and unknown booking ids never get this far (404 first).
"""

from __future__ import annotations

from collections.abc import Callable

from cachetools import TTLCache

from booking_core import Booking, BookingService, BookingStatus

DEFAULT_INTERVAL_SECONDS = 5.0
MAX_REMEMBERED = 10_000  # bookings asked about recently; least recently used forgotten beyond this


class CheckoutChecks:
    def __init__(
        self,
        service: BookingService,
        *,
        interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._service = service
        timer = clock or (lambda: service.clock.now().timestamp())
        self._recent: TTLCache[str, bool] = TTLCache(MAX_REMEMBERED, interval_seconds, timer=timer)

    async def refresh(self, booking: Booking, session_id: str | None = None) -> Booking:
        """`booking`, after asking the provider about its checkout if it still waits for its payment
        and it was not asked about within the interval."""
        waiting = booking.status is BookingStatus.PENDING_PAYMENT or booking.payment_check_due
        if not waiting or booking.checkout_session_id is None or booking.id in self._recent:
            return booking
        self._recent[booking.id] = True
        return await self._service.check_checkout(booking, session_id)
