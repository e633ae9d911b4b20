"""Answer only to the Host names the service is published under: pages build their links from the
Host header, so a forged one would otherwise point a page's links (and a cache's copy of it) elsewhere.
Probes are exempt: orchestrators and scrapers call them by address."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from booking_web.converter import json_response
from booking_web.errors import error_body

ANY_HOST_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def host_name(header: str) -> str:
    """The name of a Host header value, without its port: `[::1]:8000` -> `::1`."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].partition("]")[0]
    return header.rpartition(":")[0] if header.count(":") == 1 else header


class TrustedHostMiddleware:
    def __init__(self, app: ASGIApp, *, hosts: frozenset[str]) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in ANY_HOST_PATHS:
            await self.app(scope, receive, send)
            return
        if host_name(Headers(scope=scope).get("host", "")) in self.hosts:
            await self.app(scope, receive, send)
            return
        message = "This service does not answer to that Host: use the address it is published at."
        await json_response(error_body("invalid_host", message), 400)(scope, receive, send)
