"""Test doubles of the ports that keep nothing: a clock that moves when told, predictable ids, a
payment gateway whose client the test plays, a listener that remembers what it heard, and no copies
of sent e-mails. The shipped
stateful contract (booking_core.testing.machine) runs a store among them; booking_adapters.memory
offers them with the in-memory stores."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from attrs import define, field

from booking_core.booking import Booking, BookingEvent
from booking_core.errors import InvalidPaymentEvent, InvalidSignature, PaymentProviderError
from booking_core.money import Money
from booking_core.offer import Practitioner
from booking_core.payment import CheckoutRequest, CheckoutSession, PaymentEvent, PaymentEventKind, Refund
from booking_core.ports import SentMailCopy
from booking_core.time_off import TimeOff


@define
class ManualClock:
    """A clock that moves only when told: expiry tests are exact and instant."""

    current: datetime = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta

    def set(self, instant: datetime) -> None:
        self.current = instant


@define
class SequentialIds:
    """Readable, predictable ids for tests; tokens still differ per booking."""

    _counter: itertools.count[int] = field(factory=lambda: itertools.count(1))
    _secrets: itertools.count[int] = field(factory=lambda: itertools.count(1))

    def new_booking_id(self) -> str:
        return f"bk{next(self._counter):06d}"

    def new_time_off_id(self) -> str:
        return f"to{next(self._counter):06d}"

    def cancel_token(self, booking_id: str) -> str:
        return hashlib.sha256(b"test-cancel:" + booking_id.encode()).hexdigest()

    def secret_token(self) -> str:
        return f"test-secret-{next(self._secrets):06d}"

    def calendar_feed_token(self, practitioner_id: str, generation: int) -> str:
        return hashlib.sha256(f"test-feed:{generation}:{practitioner_id}".encode()).hexdigest()


@define
class FakeCheckout:
    id: str
    booking_id: str
    amount: Money
    expires_at: datetime
    idempotency_key: str
    status: str = "open"  # open | complete | expired, as Stripe says
    paid: bool = False
    payment_intent_id: str | None = None
    product_name: str = ""  # what the payment page names


@define
class FakePaymentGateway:
    """Checkout sessions in a dict. Test helpers pay, expire or fail them and sign the resulting events.
    The PaymentGateway contract (tests/contract/test_payment_gateway.py) runs over it as "memory"."""

    secret: bytes = b"whsec_fake_memory"
    failing: bool = False
    sessions: dict[str, FakeCheckout] = field(factory=dict)
    refunds: dict[str, Refund] = field(factory=dict)  # by idempotency key
    _refunded: dict[str, int] = field(factory=dict)  # minor units refunded, by payment intent
    _counter: itertools.count[int] = field(factory=lambda: itertools.count(1))

    def _fail_if_asked(self) -> None:
        if self.failing:
            raise PaymentProviderError("The payment provider is not answering. Please try again shortly.")

    async def start_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        self._fail_if_asked()
        for session in self.sessions.values():
            if session.idempotency_key == request.idempotency_key:
                return CheckoutSession(session.id, f"https://pay.invalid/{session.id}")
        session_id = f"cs_fake_{next(self._counter)}"
        self.sessions[session_id] = FakeCheckout(
            session_id,
            request.booking_id,
            request.amount,
            request.expires_at,
            request.idempotency_key,
            product_name=request.product_name,
        )
        return CheckoutSession(session_id, f"https://pay.invalid/{session_id}")

    async def expire_checkout(self, session_id: str) -> PaymentEvent:
        self._fail_if_asked()
        session = self.sessions[session_id]
        if session.status == "open":  # a complete session stays complete, as Stripe refuses
            session.status = "expired"
        return await self.checkout_status(session_id)

    async def refund(
        self, payment_intent_id: str, amount: Money, idempotency_key: str, booking_id: str
    ) -> Refund:
        self._fail_if_asked()
        if idempotency_key not in self.refunds:
            paid = next((s for s in self.sessions.values() if s.payment_intent_id == payment_intent_id), None)
            refunded = self._refunded.get(payment_intent_id, 0)
            if paid is None or refunded + amount.amount > paid.amount.amount:  # as Stripe refuses
                raise PaymentProviderError("The refund is more than the payment that is left to refund.")
            self._refunded[payment_intent_id] = refunded + amount.amount
            self.refunds[idempotency_key] = Refund(f"re_fake_{next(self._counter)}", amount)
        return self.refunds[idempotency_key]

    async def checkout_status(self, session_id: str) -> PaymentEvent:
        self._fail_if_asked()
        session = self.sessions[session_id]
        kind = {
            "complete": PaymentEventKind.CHECKOUT_COMPLETED,
            "expired": PaymentEventKind.CHECKOUT_EXPIRED,
        }.get(session.status, PaymentEventKind.OTHER)
        return self._event(session, kind, event_id=f"status_{session_id}_{session.status}")

    def verify_webhook(self, payload: bytes, headers: Mapping[str, str]) -> PaymentEvent:
        expected = hmac.new(self.secret, payload, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, headers.get("x-fake-signature", "")):
            raise InvalidSignature("The webhook signature does not match.")
        try:
            data = json.loads(payload)
            amount = data.get("amount")
            return PaymentEvent(
                id=data["id"],
                kind=PaymentEventKind(data["kind"]),
                booking_id=data.get("booking_id"),
                checkout_session_id=data.get("checkout_session_id"),
                payment_intent_id=data.get("payment_intent_id"),
                paid=data.get("paid", False),
                amount=Money(amount["amount"], amount["currency"]) if amount else None,
                refund_id=data.get("refund_id"),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise InvalidPaymentEvent("The webhook body is signed but is not an event.") from None

    # -- test helpers: what the client (or the provider) does ---------------------------------

    def pay(self, session_id: str, *, amount: Money | None = None) -> PaymentEvent:
        session = self.sessions[session_id]
        session.status, session.paid = "complete", True
        session.payment_intent_id = f"pi_fake_{session_id}"
        if amount is not None:
            session.amount = amount
        return self._event(session, PaymentEventKind.CHECKOUT_COMPLETED)

    def expire(self, session_id: str) -> PaymentEvent:
        session = self.sessions[session_id]
        if session.status == "open":
            session.status = "expired"
        return self._event(session, PaymentEventKind.CHECKOUT_EXPIRED)

    def _event(
        self, session: FakeCheckout, kind: PaymentEventKind, event_id: str | None = None
    ) -> PaymentEvent:
        return PaymentEvent(
            id=event_id or f"evt_fake_{next(self._counter)}",
            kind=kind,
            booking_id=session.booking_id,
            checkout_session_id=session.id,
            payment_intent_id=session.payment_intent_id,
            paid=session.paid,
            amount=session.amount if session.paid else None,
        )

    def sign(self, event: PaymentEvent) -> tuple[bytes, dict[str, str]]:
        """The webhook request that would deliver `event`."""
        body = {
            "id": event.id,
            "kind": event.kind.value,
            "booking_id": event.booking_id,
            "checkout_session_id": event.checkout_session_id,
            "payment_intent_id": event.payment_intent_id,
            "paid": event.paid,
            "amount": {"amount": event.amount.amount, "currency": event.amount.currency}
            if event.amount
            else None,
            "refund_id": event.refund_id,
        }
        payload = json.dumps(body).encode()
        return payload, {"x-fake-signature": hmac.new(self.secret, payload, hashlib.sha256).hexdigest()}


@define
class RecordingNotifier:
    """Remembers every change it was told of."""

    changes: list[tuple[Booking, BookingEvent]] = field(factory=list)
    time_off_changes: list[TimeOff] = field(factory=list)

    async def booking_changed(
        self, booking: Booking, event: BookingEvent, practitioner: Practitioner
    ) -> None:
        self.changes.append((booking, event))

    async def time_off_changed(self, time_off: TimeOff) -> None:
        self.time_off_changes.append(time_off)


class NoMailCopies:
    """SentMailCopies where none are kept (mail goes out by SMTP)."""

    async def mentioning(self, needles: Sequence[str]) -> Sequence[SentMailCopy]:
        return []

    async def erase(self, needles: Sequence[str]) -> int:
        return 0
