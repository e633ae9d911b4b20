"""The outermost layer of our own: a request id, the access log line, request metrics, and the one
broad `except` that turns an unexpected error into a logged id and a 500."""

from __future__ import annotations

import logging
import re
import secrets
import time

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from booking_web.errors import server_error, wants_html
from booking_web.logs import request_id_var
from booking_web.metrics import Metrics

log = logging.getLogger("booking_web.access")
_TRUSTED_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: Metrics, access_log: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        offered = headers.get("x-request-id", "")
        request_id = offered if _TRUSTED_ID.fullmatch(offered) else secrets.token_hex(8)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            error_id = secrets.token_hex(6)
            log.exception("unexpected error %s", error_id, extra={"error_id": error_id})
            if not response_started:
                await server_error(error_id, wants_html(Request(scope)))(scope, receive, send_with_id)
        finally:
            template = getattr(scope.get("route"), "path", "unmatched")  # bounded label values
            elapsed = time.perf_counter() - started
            self.metrics.observe_request(scope["method"], template, status, elapsed)
            if self.access_log:
                log.info(
                    "%s %s %d",
                    scope["method"],
                    template,
                    status,
                    extra={"status": status, "route": template, "duration_ms": round(elapsed * 1000, 1)},
                )
            request_id_var.reset(token)
