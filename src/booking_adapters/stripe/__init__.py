"""Payments on Stripe Checkout, and a local test-payment gateway with the same webhook path."""

from booking_adapters.extras import missing_extra

try:
    from booking_adapters.stripe.gateway import StripeGateway
    from booking_adapters.stripe.local import LocalCheckout, LocalTestGateway, SignedWebhook
except ModuleNotFoundError as missing:
    raise missing_extra(missing, __name__, "stripe") from missing

__all__ = ["LocalCheckout", "LocalTestGateway", "SignedWebhook", "StripeGateway"]
