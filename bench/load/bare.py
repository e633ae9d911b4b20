"""The ceiling: a bare Starlette endpoint on the service's server stack (uvicorn, uvloop, httptools,
the same worker count), answering with a JSON body of a requested size and nothing else.

    python -m bench.load.bare --port 8100 --workers 2
    GET  /bare?bytes=3000    a 3,000-byte JSON body
    POST /bare?bytes=600     reads the request body, then answers 600 bytes
"""

from __future__ import annotations

import argparse
import functools

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_ENVELOPE = len(b'{"pad":""}')


@functools.cache
def _body(size: int) -> bytes:
    return b'{"pad":"' + b"x" * max(0, size - _ENVELOPE) + b'"}'


async def bare(request: Request) -> Response:
    if request.method == "POST":
        await request.body()
    return Response(_body(int(request.query_params.get("bytes", "2"))), media_type="application/json")


app = Starlette(routes=[Route("/bare", bare, methods=["GET", "POST"])])


def serve_like_the_service(app_path: str, port: int, workers: int, *, factory: bool = False) -> None:
    """Run `app_path` (module:attribute) on the service's server stack: uvicorn, uvloop, httptools."""
    uvicorn.run(
        app_path,
        factory=factory,
        host="127.0.0.1",
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        server_header=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load.bare")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    serve_like_the_service("bench.load.bare:app", args.port, args.workers)


if __name__ == "__main__":
    main()
