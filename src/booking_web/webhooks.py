"""`POST /api/webhooks/stripe`: verify the signed event on its raw body, then apply it to bookings.

Errors are raised, not answered here: the app's table turns InvalidSignature and InvalidPaymentEvent
into 400 (nothing changed) and transient store or provider failures into 5xx, which makes Stripe
deliver again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from booking_core import BookingService, PaymentOutcome
from booking_web.answers import WebhookAnswerJson
from booking_web.converter import json_response

log = logging.getLogger(__name__)


async def receive_payment_webhook(
    service: BookingService, payload: bytes, headers: Mapping[str, str]
) -> PaymentOutcome:
    """The one path every payment webhook takes, Stripe's and the local test page's alike."""
    event = service.payments.verify_webhook(payload, headers)
    outcome = await service.apply_payment_event(event)
    # Ids and kinds only: the event's body carries the client's e-mail address.
    log.info("payment event %s (%s) for booking %s: %s", event.id, event.kind, event.booking_id, outcome)
    return outcome


async def stripe_webhook(request: Request) -> Response:
    service: BookingService = request.app.state.booking
    outcome = await receive_payment_webhook(service, await request.body(), request.headers)
    return json_response(WebhookAnswerJson(received=True, outcome=outcome))


routes = [Route("/api/webhooks/stripe", stripe_webhook, methods=["POST"], name="stripe_webhook")]
