"""The local test-payment page: what the checkout URL of LocalTestGateway shows. No money moves.

Pay sends the signed `checkout.session.completed` event through the webhook's own code path, so the
demo confirms bookings exactly as Stripe would. With a real Stripe key these pages answer 404.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from booking_adapters.stripe import LocalTestGateway
from booking_core import BookingService, NotFound
from booking_web.csrf import CsrfGuard
from booking_web.webhooks import receive_payment_webhook


@cache
def _templates() -> Jinja2Templates:
    return Jinja2Templates(directory=Path(__file__).parent / "templates")


def _service(request: Request) -> BookingService:
    service: BookingService = request.app.state.booking
    return service


def _local_gateway(request: Request) -> LocalTestGateway:
    gateway = _service(request).payments
    if not isinstance(gateway, LocalTestGateway):
        raise NotFound("Test payments are off: this service takes real payments.")
    return gateway


async def test_payment_page(request: Request) -> Response:
    session_id = request.path_params["session_id"]
    checkout = _local_gateway(request).checkout(session_id)
    return _templates().TemplateResponse(
        request,
        "test_payment.html",
        {
            "product": checkout.request.product_name,
            "amount": str(checkout.request.amount),
            "status": checkout.status,
            "pay_url": request.url_for("test_payment_pay", session_id=session_id),
            "cancel_url": request.url_for("test_payment_cancel", session_id=session_id),
        },
        headers={"cache-control": "no-store"},
    )


async def pay(request: Request) -> Response:
    gateway = _local_gateway(request)
    csrf: CsrfGuard = request.app.state.csrf
    csrf.check_origin(request)  # the form has no token; a press from another site is refused
    session_id = request.path_params["session_id"]
    webhook = gateway.pay(session_id)
    await receive_payment_webhook(_service(request), webhook.payload, webhook.headers)
    return RedirectResponse(gateway.success_url(session_id), status_code=303)


async def cancel(request: Request) -> Response:
    # As on Stripe, leaving the page keeps the session open until the hold lapses.
    session_id = request.path_params["session_id"]
    return RedirectResponse(_local_gateway(request).cancel_url(session_id), status_code=303)


routes = [
    Route("/test-payments/{session_id}", test_payment_page, methods=["GET"], name="test_payment"),
    Route("/test-payments/{session_id}/pay", pay, methods=["POST"], name="test_payment_pay"),
    Route("/test-payments/{session_id}/cancel", cancel, methods=["POST"], name="test_payment_cancel"),
]
