"""Payments on Stripe Checkout, and a local test-payment gateway with the same webhook path."""

from booking_adapters.stripe.gateway import StripeGateway
from booking_adapters.stripe.local import LocalCheckout, LocalTestGateway, SignedWebhook

__all__ = ["LocalCheckout", "LocalTestGateway", "SignedWebhook", "StripeGateway"]
