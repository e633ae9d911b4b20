"""Local stand-ins for outside services (fake Stripe, fake Cal.com) that speak their published
APIs: for tests and benchmarks."""

from booking_adapters.testing.fake_stripe import (
    FakeStripe,
    RecordedRequest,
    StripeApiError,
    decode_form,
    running,
)

__all__ = ["FakeStripe", "RecordedRequest", "StripeApiError", "decode_form", "running"]
