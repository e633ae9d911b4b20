"""The fake Stripe server in a process of its own, so that it neither shares the load generator's
event loop nor a booking worker's core: `python -m bench.load.stripe_server --port 8200`.
`--delay-seconds 1` answers every request that much later (a slow Stripe)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path

import anyio
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from bench.load.processes import free_port, python_module, serving
from booking_adapters.testing.fake_stripe import FakeStripe


def start(
    stack: ExitStack,
    name: str,
    env: Mapping[str, str],
    log_dir: Path,
    webhook_secret: str,
    delay: float = 0.0,
) -> str:
    """This server in a process of its own until `stack` closes; its API base URL."""
    port = free_port()
    command = python_module(
        "bench.load.stripe_server",
        *("--port", str(port), "--webhook-secret", webhook_secret, "--delay-seconds", str(delay)),
    )
    stack.enter_context(serving(name, command, env, f"http://127.0.0.1:{port}/v1/events/none*", log_dir))
    return f"http://127.0.0.1:{port}"


def delayed(app: ASGIApp, seconds: float) -> ASGIApp:
    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        await anyio.sleep(seconds)
        await app(scope, receive, send)

    return slow if seconds > 0 else app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load.stripe_server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--webhook-secret", required=True)
    parser.add_argument("--delay-seconds", type=float, default=0.0)
    args = parser.parse_args()
    fake = FakeStripe(webhook_secret=args.webhook_secret)
    uvicorn.run(
        delayed(fake.app(), args.delay_seconds),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        lifespan="off",
        backlog=4096,
    )


if __name__ == "__main__":
    main()
