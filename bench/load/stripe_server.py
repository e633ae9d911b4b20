"""The fake Stripe server in a process of its own, so that it neither shares the load generator's
event loop nor a booking worker's core: `python -m bench.load.stripe_server --port 8200`."""

from __future__ import annotations

import argparse

import uvicorn

from booking_adapters.testing.fake_stripe import FakeStripe


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load.stripe_server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--webhook-secret", required=True)
    args = parser.parse_args()
    fake = FakeStripe(webhook_secret=args.webhook_secret)
    uvicorn.run(
        fake.app(),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        lifespan="off",
    )


if __name__ == "__main__":
    main()
