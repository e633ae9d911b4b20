"""What operators and their tools poll: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

import hmac

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from booking_web.answers import AliveJson, ReadinessJson
from booking_web.converter import json_response
from booking_web.errors import error_body
from booking_web.settings import Settings


async def healthz(request: Request) -> Response:
    del request
    return json_response(AliveJson("ok"))


async def readyz(request: Request) -> Response:
    problems = await request.app.state.container.readiness_problems()
    if problems:
        return json_response(ReadinessJson("unavailable", problems), 503)
    return json_response(ReadinessJson("ready"))


async def metrics(request: Request) -> Response:
    refusal = _metrics_refusal(request.app.state.settings, request.headers.get("authorization", ""))
    if refusal is not None:
        return refusal
    return Response(request.app.state.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


def _metrics_refusal(settings: Settings, authorization: str) -> Response | None:
    """/metrics tells strangers what the service does and how busy it is: with METRICS_TOKEN it needs
    `Authorization: Bearer <token>`; without, it is open in development mode only (bound to loopback)."""
    if settings.metrics_token is not None:
        expected = f"Bearer {settings.metrics_token}".encode()
        if hmac.compare_digest(authorization.encode(), expected):
            return None
        message = "Send METRICS_TOKEN as Authorization: Bearer <token>."
        return json_response(error_body("unauthorized", message), 401, {"WWW-Authenticate": "Bearer"})
    if settings.development:
        return None
    message = "Metrics are closed: set METRICS_TOKEN and send it as Authorization: Bearer <token>."
    return json_response(error_body("forbidden", message), 403)


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
]
