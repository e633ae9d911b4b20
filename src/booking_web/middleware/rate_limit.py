"""A rate limit per client address on the routes that create bookings, on the pages a client's
secret link opens (their booking's page and its cancel page) and on the calendar feeds, counted by
the app's `RateLimits` (booking_web/rate_limits.py: shared by every worker and host when REDIS_URL
is set). The sign-in form counts in the same limits (booking_web/sign_in.py).

A refusal is JSON (`rate_limited`), or, to a browser on a page, the error page: both 429 with
Retry-After."""

from __future__ import annotations

import re

from attrs import Factory, field, frozen
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from booking_web.converter import json_response
from booking_web.errors import RateLimited, error_body, error_page, wants_html
from booking_web.middleware.path_patterns import any_of
from booking_web.rate_limits import Limit, RateLimits, retry_after


@frozen
class LimitedRoutes:
    """Requests of `methods` to `paths` (path patterns), counted in `limit` per client address;
    `what` names them in the refusal. With `pages`, a browser on a page (not /api/) is refused
    with the HTML error page."""

    limit: Limit
    paths: tuple[str, ...]
    methods: frozenset[str] = frozenset({"POST"})
    what: str = "booking attempts"
    pages: bool = True
    _pattern: re.Pattern[str] = field(
        init=False, eq=False, repr=False, default=Factory(lambda self: any_of(self.paths), takes_self=True)
    )

    def covers(self, method: str, path: str) -> bool:
        return method in self.methods and self._pattern.fullmatch(path) is not None

    def refusal(self, request: Request, seconds: int) -> Response:
        message = f"Too many {self.what}. Please wait {seconds} seconds and try again."
        headers = {"Retry-After": str(seconds)}
        if self.pages and wants_html(request):
            return error_page(request, 429, message, headers)
        return json_response(error_body(RateLimited.code, message), 429, headers=headers)


class RateLimitMiddleware:
    """Applies each of `routes`' limits, in order, to the requests it covers (a request covered by
    several counts in each until one refuses it). One layer for all: every request passes it."""

    def __init__(self, app: ASGIApp, *, routes: tuple[LimitedRoutes, ...]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            method, path = scope["method"], scope["path"]
            for routes in self.routes:
                if not routes.covers(method, path):
                    continue
                address = scope["client"][0] if scope.get("client") else "unknown"
                limits: RateLimits = scope["app"].state.rate_limits
                wait = await limits.seconds_until_allowed(routes.limit, address)
                if wait:
                    response = routes.refusal(Request(scope, receive), retry_after(wait))
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)
