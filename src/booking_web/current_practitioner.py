"""Who is asking: the signed-in practitioner of a page (session cookie) or of the JSON API
(`Authorization: Bearer <token>`). Both raise Unauthenticated, which the error handler answers with
401 and the error shape (the API, with `WWW-Authenticate: Bearer`) or a redirect to the sign-in
page (a browser asking for a page). The API does not take the cookie: its unsafe methods would then
need CSRF protection, and scripts have tokens."""

from __future__ import annotations

from starlette.requests import Request

from booking_core import Booking, CredentialKind, Practitioner, PractitionerAccess
from booking_web.bootstrap import service_of
from booking_web.session_cookie import SessionCookie


def access_of(request: Request) -> PractitionerAccess:
    access: PractitionerAccess = request.app.state.container.access
    return access


def session_cookie_of(request: Request) -> SessionCookie:
    cookie: SessionCookie = request.app.state.session_cookie
    return cookie


async def session_practitioner(request: Request) -> Practitioner:
    """The practitioner signed in with this browser."""
    token = session_cookie_of(request).token(request)
    return await access_of(request).practitioner_of(CredentialKind.SESSION, token)


async def bearer_practitioner(request: Request) -> Practitioner:
    """The practitioner whose API token the request carries."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    presented = token.strip() if scheme.lower() == "bearer" else ""
    return await access_of(request).practitioner_of(CredentialKind.API_TOKEN, presented)


async def cancel_as_practitioner(request: Request, practitioner: Practitioner, reason: str) -> Booking:
    """Cancel the booking of the path's `booking_id` at `practitioner`'s request (the API and the
    page): another practitioner's is UnknownBooking (404), a started session SessionStarted (409)."""
    service = service_of(request)
    booking = await service.booking_of_practitioner(practitioner.id, request.path_params["booking_id"])
    return await service.cancel_for_practitioner(booking.id, reason, after_start=False)
