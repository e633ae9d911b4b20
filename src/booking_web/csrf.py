"""CSRF protection for the pages' forms: a signed double submit, and the request's origin.

The browser holds a random value in a cookie; each form carries that value signed with the server
secret. A cross-site form can neither read the cookie nor forge the signature. Behind https the
cookie is named with the `__Host-` prefix, which browsers accept only Secure, for Path=/ and
without a Domain: a sibling subdomain cannot plant one ("cookie tossing"). Over plain http (the
local development mode) the prefix is impossible, so the cookie has a plain name.

An unsafe submission must also come from the site itself: its `Origin` (or, without one, its
`Referer`) must be the origin of PUBLIC_BASE_URL. Browsers send `Origin: null` where the page's
Referrer-Policy is `no-referrer` (ours is, so that no URL carrying a token leaks), and may send
neither header: then the token alone decides.

A booking page framed by another website (ALLOWED_ORIGINS, /embed.js) is a third party there: the
browser may neither store nor send its cookie. A form without the cookie is still taken when the
browser says it was sent from one of our own pages (`Sec-Fetch-Site: same-origin`, which no other
site can make it say) and carries a token we signed.
"""

from __future__ import annotations

import hmac
import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from booking_web.errors import CsrfRejected
from booking_web.origins import origin_of

PLAIN_COOKIE = "booking_csrf"
HOST_COOKIE = "__Host-booking_csrf"
FIELD = "csrf_token"
MAX_AGE_SECONDS = 12 * 3600
_EXPIRED = "This form has expired or was not sent from this site. Please reload the page and try again."


class CsrfGuard:
    def __init__(self, secret: str, *, public_base_url: str) -> None:
        self.serializer = URLSafeTimedSerializer(secret, salt="booking-csrf")
        self.origin = origin_of(public_base_url)
        self.secure_cookie = self.origin.startswith("https://")
        self.cookie = HOST_COOKIE if self.secure_cookie else PLAIN_COOKIE

    def form_token(self, request: Request) -> tuple[str, str | None]:
        """The token for a form, and the cookie value to set if the browser has none yet."""
        current = request.cookies.get(self.cookie)
        value = current or secrets.token_urlsafe(24)
        return self.serializer.dumps(value), None if current else value

    def remember(self, response: Response, cookie_value: str | None) -> None:
        if cookie_value is not None:
            response.set_cookie(
                self.cookie,
                cookie_value,
                max_age=MAX_AGE_SECONDS,
                path="/",  # and no Domain: what the __Host- prefix requires
                httponly=True,
                samesite="lax",
                secure=self.secure_cookie,
            )

    def verify(self, request: Request, form_token: str) -> None:
        """Refuse (CsrfRejected) a form from another origin, or without its token and cookie."""
        self.check_origin(request)
        cookie = request.cookies.get(self.cookie, "")
        try:
            signed = self.serializer.loads(form_token, max_age=MAX_AGE_SECONDS)
        except BadSignature:
            signed = None
        if not isinstance(signed, str):
            raise CsrfRejected(_EXPIRED)
        if cookie:
            if not hmac.compare_digest(signed, cookie):
                raise CsrfRejected(_EXPIRED)
        elif request.headers.get("sec-fetch-site") != "same-origin":
            raise CsrfRejected(_EXPIRED)

    def check_origin(self, request: Request) -> None:
        """Refuse a request that says it comes from another origin; one that says nothing passes."""
        origin = request.headers.get("origin", "").strip()
        claimed = origin if origin and origin != "null" else request.headers.get("referer", "")
        if claimed and origin_of(claimed) != self.origin:
            raise CsrfRejected(_EXPIRED)
