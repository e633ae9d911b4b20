"""CSRF protection for the pages' forms: a signed double submit.

The browser holds a random value in a cookie; each form carries that value signed with the server
secret. A cross-site form can neither read the cookie nor forge the signature.
"""

from __future__ import annotations

import hmac
import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from booking_web.errors import CsrfRejected

COOKIE = "booking_csrf"
FIELD = "csrf_token"
MAX_AGE_SECONDS = 12 * 3600


class CsrfGuard:
    def __init__(self, secret: str, *, secure_cookie: bool) -> None:
        self.serializer = URLSafeTimedSerializer(secret, salt="booking-csrf")
        self.secure_cookie = secure_cookie

    def form_token(self, request: Request) -> tuple[str, str | None]:
        """The token for a form, and the cookie value to set if the browser has none yet."""
        current = request.cookies.get(COOKIE)
        value = current or secrets.token_urlsafe(24)
        return self.serializer.dumps(value), None if current else value

    def remember(self, response: Response, cookie_value: str | None) -> None:
        if cookie_value is not None:
            response.set_cookie(
                COOKIE,
                cookie_value,
                max_age=MAX_AGE_SECONDS,
                httponly=True,
                samesite="lax",
                secure=self.secure_cookie,
            )

    def verify(self, request: Request, form_token: str) -> None:
        cookie = request.cookies.get(COOKIE, "")
        try:
            signed = self.serializer.loads(form_token, max_age=MAX_AGE_SECONDS)
        except BadSignature:
            signed = None
        if not cookie or not isinstance(signed, str) or not hmac.compare_digest(signed, cookie):
            raise CsrfRejected(
                "This form has expired or was not sent from this site. Please reload the page and try again."
            )
