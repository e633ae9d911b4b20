"""A rate limit per client address on the routes that create bookings, on the pages a client's
secret link opens (their booking's page and its cancel page) and on the calendar feeds, counted by
the app's `RateLimits` (booking_web/rate_limits.py: shared by every worker and host when REDIS_URL
is set). The sign-in form counts in the same limits (booking_web/sign_in.py)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from booking_web.converter import json_response
from booking_web.errors import RateLimited, error_body
from booking_web.middleware.path_patterns import any_of
from booking_web.rate_limits import Limit, RateLimits, retry_after


class RateLimitMiddleware:
    """Limits requests of `methods` to `paths` per client address; `what` names them in the refusal."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: Limit,
        paths: tuple[str, ...],
        methods: tuple[str, ...] = ("POST",),
        what: str = "booking attempts",
    ) -> None:
        self.app = app
        self.limit = limit
        self.paths = any_of(paths)
        self.methods = frozenset(methods)
        self.what = what

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in self.methods
            and self.paths.fullmatch(scope["path"])
        ):
            address = scope["client"][0] if scope.get("client") else "unknown"
            limits: RateLimits = scope["app"].state.rate_limits
            wait = await limits.seconds_until_allowed(self.limit, address)
            if wait:
                seconds = retry_after(wait)
                message = f"Too many {self.what}. Please wait {seconds} seconds and try again."
                response = json_response(
                    error_body(RateLimited.code, message), 429, headers={"Retry-After": str(seconds)}
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
