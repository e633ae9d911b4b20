"""What the core needs to know of payments, whoever the provider is."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from attrs import frozen

from booking_core.money import Money


@frozen
class CheckoutRequest:
    booking_id: str
    product_name: str  # what the client sees on the payment page, e.g. "Dr. Jane Doe, Mon 3 Mar 09:00"
    amount: Money
    customer_email: str
    expires_at: datetime
    idempotency_key: str


@frozen
class CheckoutSession:
    id: str
    url: str


class PaymentEventKind(StrEnum):
    CHECKOUT_COMPLETED = "checkout_completed"  # confirms only if `paid`
    ASYNC_PAYMENT_SUCCEEDED = "async_payment_succeeded"
    ASYNC_PAYMENT_FAILED = "async_payment_failed"
    CHECKOUT_EXPIRED = "checkout_expired"
    REFUNDED = "refunded"
    OTHER = "other"  # verified, but of no concern to bookings


@frozen
class PaymentEvent:
    """A verified notice from the payment provider, reduced to what bookings need."""

    id: str
    kind: PaymentEventKind
    booking_id: str | None = None
    checkout_session_id: str | None = None
    payment_intent_id: str | None = None
    paid: bool = False
    amount: Money | None = None
    refund_id: str | None = None
    refunded: Money | None = None  # what the refund (or, for a charge, all its refunds) returned
    refunded_total: Money | None = None  # everything refunded of the payment so far (charge events)

    @property
    def closed_unpaid(self) -> bool:
        """The provider's word that this checkout can no longer be paid and was not."""
        return self.kind is PaymentEventKind.CHECKOUT_EXPIRED and not self.paid


@frozen
class ReceivedPayment:
    """What a booking records of a payment the provider reported."""

    amount: Money
    payment_intent_id: str | None
    checkout_session_id: str | None

    @classmethod
    def of(cls, event: PaymentEvent, price: Money) -> ReceivedPayment:
        """The payment `event` reports (`price` if it names no amount)."""
        amount = event.amount if event.amount is not None else price
        return cls(amount, event.payment_intent_id, event.checkout_session_id)


@frozen
class Refund:
    id: str
    amount: Money
