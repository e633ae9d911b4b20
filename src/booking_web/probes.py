"""What operators and their tools poll: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


async def healthz(request: Request) -> Response:
    del request
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    problems = await request.app.state.container.readiness_problems()
    if problems:
        return JSONResponse({"status": "unavailable", "problems": problems}, 503)
    return JSONResponse({"status": "ready"})


async def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
]
