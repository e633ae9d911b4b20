"""The practitioner's session cookie: the session's secret, signed with the server secret.

The session itself lives in the CredentialStore (hashed), so signing out ends it on the server; the
signature lets a forged or truncated cookie be refused without asking the database, and its age
bounds the cookie even if a browser ignored Max-Age. Behind https the cookie takes the `__Host-`
prefix (Secure, Path=/, no Domain: a sibling subdomain cannot plant one), as the CSRF cookie does.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from booking_core import SESSION_LIFETIME

PLAIN_COOKIE = "booking_session"
HOST_COOKIE = "__Host-booking_session"
MAX_AGE_SECONDS = int(SESSION_LIFETIME.total_seconds())


class SessionCookie:
    def __init__(self, secret: str, *, https: bool) -> None:
        self.serializer = URLSafeTimedSerializer(secret, salt="booking-session")
        self.secure = https
        self.name = HOST_COOKIE if https else PLAIN_COOKIE

    def token(self, request: Request) -> str:
        """The session secret the request carries, or "" (none, forged or too old)."""
        signed = request.cookies.get(self.name, "")
        if not signed:
            return ""
        try:
            token = self.serializer.loads(signed, max_age=MAX_AGE_SECONDS)
        except BadSignature:
            return ""
        return token if isinstance(token, str) else ""

    def start(self, response: Response, token: str) -> None:
        response.set_cookie(
            self.name,
            self.serializer.dumps(token),
            max_age=MAX_AGE_SECONDS,
            path="/",
            httponly=True,  # no script reads it
            samesite="lax",  # sent when following a link here, not with another site's POST
            secure=self.secure,
        )

    def end(self, response: Response) -> None:
        response.delete_cookie(self.name, path="/", httponly=True, samesite="lax", secure=self.secure)
