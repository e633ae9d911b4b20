"""The booking floor: the least work a booking must do, on the service's server stack (uvicorn, uvloop,
httptools, Starlette, the same worker count). `POST /floor` parses the booking's JSON, inserts one row
under a PostgreSQL exclusion constraint (a psycopg pool, autocommit: one round trip), creates one
Checkout Session through the Stripe SDK (the call the service makes, against the same fake Stripe),
then stores the session id on the row. A taken slot is a 409. No validation, history, outbox, limits,
logs or metrics: what the service does beyond this is what it costs.

    python -m bench.load.floor --port 8300 --workers 1 --database URL --stripe http://127.0.0.1:8200
"""

from __future__ import annotations

import argparse
import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import psycopg
import stripe
from psycopg_pool import AsyncConnectionPool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.load.bare import serve_like_the_service

SESSION = timedelta(minutes=50)  # bench.load's practitioners' session length
POOL_SIZE = 20  # the service's (booking_adapters.sql.database.POOL_SIZE)
TABLE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE TABLE IF NOT EXISTS floor_bookings (
    id text PRIMARY KEY,
    practitioner_id text NOT NULL,
    span tstzrange NOT NULL,
    email text NOT NULL,
    checkout_session_id text,
    EXCLUDE USING gist (practitioner_id WITH =, span WITH &&)
)"""
INSERT = (
    "INSERT INTO floor_bookings (id, practitioner_id, span, email) VALUES (%s, %s, tstzrange(%s, %s), %s)"
)
STORE_SESSION = "UPDATE floor_bookings SET checkout_session_id = %s WHERE id = %s"
TAKEN = Response(b'{"error":{"code":"slot_taken"}}', 409, media_type="application/json")


def create_table(url: str) -> None:
    """The floor's table in the run's database (before the floor's workers start)."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(TABLE)


class Floor:
    def __init__(self, database_url: str, stripe_base: str) -> None:
        self.pool = AsyncConnectionPool(
            database_url, min_size=POOL_SIZE, max_size=POOL_SIZE, kwargs={"autocommit": True}, open=False
        )
        self.stripe = stripe.StripeClient(
            "sk_test_fake_floor",
            base_addresses={"api": stripe_base},
            max_network_retries=2,
            http_client=stripe.HTTPXClient(timeout=10.0),
        )

    async def book(self, request: Request) -> Response:
        body = json.loads(await request.body())
        start = datetime.fromisoformat(body["start"])
        booking_id = uuid.uuid4().hex
        try:
            async with self.pool.connection() as connection:
                await connection.execute(
                    INSERT, (booking_id, body["practitioner_id"], start, start + SESSION, body["email"])
                )
        except psycopg.errors.ExclusionViolation:
            return TAKEN
        session = await self._checkout(booking_id, body["email"])
        async with self.pool.connection() as connection:
            await connection.execute(STORE_SESSION, (session["id"], booking_id))
        answer = {"id": booking_id, "checkout_session_id": session["id"], "checkout_url": session["url"]}
        return Response(json.dumps(answer).encode(), 201, media_type="application/json")

    async def _checkout(self, booking_id: str, email: str) -> Any:
        """The service's call (booking_adapters.stripe.gateway.StripeGateway.start_checkout)."""
        metadata = {"booking_id": booking_id}
        response = await self.stripe.raw_request_async(
            "post",
            "/v1/checkout/sessions",
            mode="payment",
            line_items=[
                {
                    "price_data": {
                        "currency": "eur",
                        "unit_amount": 8000,
                        "product_data": {"name": "Session"},
                    },
                    "quantity": 1,
                }
            ],
            customer_email=email,
            client_reference_id=booking_id,
            metadata=metadata,
            payment_intent_data={"metadata": metadata},
            success_url=f"http://127.0.0.1/bookings/{booking_id}/paid",
            cancel_url=f"http://127.0.0.1/bookings/{booking_id}",
            idempotency_key=f"checkout-{booking_id}",
        )
        return response.data


def app() -> Starlette:
    """The uvicorn factory: each worker opens its own pool."""
    floor = Floor(os.environ["FLOOR_DATABASE_URL"], os.environ["FLOOR_STRIPE_BASE"])

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await floor.pool.open(wait=True)
        try:
            yield
        finally:
            await floor.pool.close()

    return Starlette(routes=[Route("/floor", floor.book, methods=["POST"])], lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load.floor")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database", required=True)
    parser.add_argument("--stripe", required=True, help="the (fake) Stripe API base URL")
    args = parser.parse_args()
    os.environ["FLOOR_DATABASE_URL"] = args.database
    os.environ["FLOOR_STRIPE_BASE"] = args.stripe
    serve_like_the_service("bench.load.floor:app", args.port, args.workers, factory=True)


if __name__ == "__main__":
    main()
