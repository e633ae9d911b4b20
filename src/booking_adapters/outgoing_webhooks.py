"""Outgoing webhooks: one outbox channel per subscriber URL, each event POSTed as JSON and signed
like Stripe's (`X-Booking-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`), so receivers can
check the sender and reject replays. The relay retries with backoff; the event id lets receivers
drop a redelivery."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from attrs import define, field

from booking_core import Booking, BookingStore, Clock, Money, OutboxItem, ProviderError, TimeRange, Trigger

SIGNATURE_HEADER = "X-Booking-Signature"

EVENT_TYPES = {
    Trigger.PAYMENT_CONFIRMED: "booking.confirmed",
    Trigger.BOOKED_FREE: "booking.confirmed",  # a free service's booking, confirmed as it is made
    Trigger.CANCELLED: "booking.cancelled",
    Trigger.REFUNDED_OUTSIDE: "booking.cancelled",  # a full refund in the Stripe Dashboard
    Trigger.REFUND_ISSUED: "booking.refunded",
    Trigger.HOLD_RELEASED: "booking.expired",
    Trigger.RESCHEDULED: "booking.rescheduled",  # data.moved_from and data.moved_to: the times
    Trigger.COMPLETED: "booking.completed",  # the session's end went by (housekeeping)
    Trigger.NO_SHOW_MARKED: "booking.no_show",
    Trigger.NO_SHOW_UNDONE: "booking.completed",  # a no-show taken back: the session took place
}

# 4xx means the subscriber will not take this event, except "too slow" and "too many".
_RETRYABLE_CLIENT_ERRORS = frozenset({408, 429})


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event_id(seq: int) -> str:
    """Stable per history event: every redelivery to every subscriber carries the same id."""
    return f"evt_{seq}"


def channel_name(url: str) -> str:
    """Per subscriber; a hash, so the outbox and the logs show no credentials a URL may carry."""
    return "webhook:" + hashlib.sha256(url.encode()).hexdigest()[:12]


def event_body(item: OutboxItem, event_type: str, booking: Booking) -> bytes:
    """The JSON body. `data.booking` is the booking as it is at delivery; `data.to_status` is where
    this event took it, and for a move `data.moved_from` / `data.moved_to` the times it left and
    took (the booking may have moved again since). The client's phone number is not sent."""
    event = item.event
    document: dict[str, Any] = {
        "id": event_id(item.seq),
        "type": event_type,
        "created": _iso(event.at),
        "data": {
            "booking_id": event.booking_id,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "reason": event.reason,
            "booking": {
                "id": booking.id,
                "practitioner_id": booking.practitioner_id,
                "service": {"id": booking.service_id, "name": booking.service_name},
                "status": booking.status,
                "start": _iso(booking.slot.start),
                "end": _iso(booking.slot.end),
                "client": {"name": booking.client.name, "email": booking.client.email},
                "client_timezone": booking.client_timezone,
                "price": _money(booking.price),
                "amount_paid": _money(booking.amount_paid),
                "amount_refunded": _money(booking.amount_refunded),
            },
        },
    }
    if event.trigger is Trigger.RESCHEDULED:
        document["data"] |= {"moved_from": _span(event.moved_from), "moved_to": _span(event.moved_to)}
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _span(slot: TimeRange | None) -> dict[str, str] | None:
    return None if slot is None else {"start": _iso(slot.start), "end": _iso(slot.end)}


def _money(money: Money | None) -> dict[str, Any] | None:
    return None if money is None else {"amount": money.amount, "currency": money.currency}


@define
class WebhookChannel:
    url: str
    secret: bytes
    store: BookingStore
    clock: Clock
    http: httpx.AsyncClient  # opened and closed by the composition root
    name: str = field(init=False)

    def __attrs_post_init__(self) -> None:
        self.name = channel_name(self.url)

    async def deliver(self, item: OutboxItem) -> None:
        event_type = EVENT_TYPES.get(item.event.trigger)
        if event_type is None:
            return
        booking = await self.store.get(item.event.booking_id)
        if booking is None:
            raise ProviderError(f"booking {item.event.booking_id} is gone", retryable=False)
        body = event_body(item, event_type, booking)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(self.secret, int(self.clock.now().timestamp()), body),
        }
        try:
            response = await self.http.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise ProviderError(f"subscriber unreachable ({type(error).__name__})") from None
        status = response.status_code
        if 200 <= status < 300:
            return
        refused = 400 <= status < 500 and status not in _RETRYABLE_CLIENT_ERRORS
        raise ProviderError(f"subscriber answered {status}", retryable=not refused)


def parse_webhook_urls(value: str | None) -> list[str]:
    """WEBHOOK_URLS: comma-separated http(s) URLs; raises ValueError naming every bad one."""
    urls = [part.strip() for part in (value or "").split(",") if part.strip()]
    bad = [url for url in urls if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname]
    if bad:  # positions, not the URLs: they may carry credentials
        positions = ", ".join(str(urls.index(url) + 1) for url in bad)
        raise ValueError(f"WEBHOOK_URLS: entry {positions} is not an http(s) URL with a host.")
    return list(dict.fromkeys(urls))


def webhook_http_client() -> httpx.AsyncClient:
    """Short timeouts: a slow subscriber must not hold up the relay; it is retried later."""
    return httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0), follow_redirects=False)


def webhook_channels(
    urls: Iterable[str], secret: bytes, store: BookingStore, clock: Clock, http: httpx.AsyncClient
) -> list[WebhookChannel]:
    return [WebhookChannel(url, secret, store, clock, http) for url in urls]
