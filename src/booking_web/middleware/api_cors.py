"""CORS on the JSON API (/api/*) for the ALLOWED_ORIGINS: a practitioner's own website may call it
from the browser. No credentials: the API reads no cookie, and a token is sent as a header the page
sets itself. Pages stay same-origin; with no origin allowed, nothing changes."""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

API_PREFIX = "/api/"
# what the API's routes accept and read (an API token for /api/me, the idempotency key for bookings)
METHODS = ("GET", "POST", "DELETE")
HEADERS = ("Content-Type", "Idempotency-Key", "Authorization", "X-Request-Id")
EXPOSED = ("Location", "Retry-After", "X-Request-Id")
PREFLIGHT_CACHE_SECONDS = 600


class ApiCorsMiddleware:
    def __init__(self, app: ASGIApp, *, origins: tuple[str, ...]) -> None:
        self.app = app
        self.cors = (
            CORSMiddleware(
                app,
                allow_origins=list(origins),
                allow_methods=list(METHODS),
                allow_headers=list(HEADERS),
                expose_headers=list(EXPOSED),
                allow_credentials=False,
                max_age=PREFLIGHT_CACHE_SECONDS,
            )
            if origins
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.cors is not None and scope["type"] == "http" and scope["path"].startswith(API_PREFIX):
            await self.cors(scope, receive, send)
            return
        await self.app(scope, receive, send)
