"""The PaymentGateway contract's fixture: each gateway with a way to play the paying client."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from booking_adapters.memory import FakePaymentGateway
from booking_adapters.stripe import LocalTestGateway, SignedWebhook, StripeGateway
from booking_adapters.testing import FakeStripe, running
from booking_core.testing.payment_contract import GatewayRig

WEBHOOK_SECRET = "whsec_fake_contract"


def _local() -> Iterator[GatewayRig]:
    gateway = LocalTestGateway(WEBHOOK_SECRET, "http://booking.test")
    yield GatewayRig(gateway, gateway.pay)


def _memory() -> Iterator[GatewayRig]:
    gateway = FakePaymentGateway(secret=WEBHOOK_SECRET.encode())
    yield GatewayRig(gateway, lambda session_id: SignedWebhook(*gateway.sign(gateway.pay(session_id))))


def _stripe_on_fake() -> Iterator[GatewayRig]:
    fake = FakeStripe(webhook_secret=WEBHOOK_SECRET)
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    with running(fake) as url:
        gateway = StripeGateway("sk_test_fake_contract", WEBHOOK_SECRET, "http://booking.test", api_base=url)
        yield GatewayRig(gateway, fake.complete)


GATEWAYS: dict[str, Callable[[], Iterator[GatewayRig]]] = {
    "local": _local,
    "memory": _memory,
    "stripe-on-fake": _stripe_on_fake,
}
