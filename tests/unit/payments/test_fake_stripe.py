"""The fake Stripe server keeps to Stripe's spec: shapes, rules, errors and idempotency."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from booking_adapters.stripe import LocalTestGateway
from booking_adapters.testing import FakeStripe, decode_form
from booking_core import CheckoutRequest, Money
from tests.unit.payments.stripe_spec import validator

pytestmark = pytest.mark.anyio

AUTH = {"authorization": "Bearer sk_test_fake_spec"}


@pytest.fixture
async def api(fake_stripe: FakeStripe) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=fake_stripe.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://stripe.test", headers=AUTH) as client:
        yield client


def _create_params(**changes: str) -> dict[str, str]:
    params = {
        "mode": "payment",
        "line_items[0][price_data][currency]": "eur",
        "line_items[0][price_data][unit_amount]": "9000",
        "line_items[0][price_data][product_data][name]": "Ann Tutor, Mon 09:00",
        "line_items[0][quantity]": "1",
        "client_reference_id": "bk1",
        "metadata[booking_id]": "bk1",
        "expires_at": str(int(time.time()) + 3600),
        "success_url": "http://booking.test/booking/success",
    }
    return params | changes


async def _create(api: httpx.AsyncClient, key: str = "key-1", **changes: str) -> httpx.Response:
    return await api.post(
        "/v1/checkout/sessions", data=_create_params(**changes), headers={"idempotency-key": key}
    )


def _assert_valid(schema: str, document: Any) -> None:
    errors = sorted(validator(schema).iter_errors(document), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_bracket_keys_decode_to_nested_objects_and_lists() -> None:
    body = b"line_items[0][price_data][currency]=eur&line_items[1][quantity]=2&metadata[a]=b&mode=payment"
    assert decode_form(body) == {
        "line_items": [{"price_data": {"currency": "eur"}}, {"quantity": "2"}],
        "metadata": {"a": "b"},
        "mode": "payment",
    }


async def test_every_answer_matches_the_spec(api: httpx.AsyncClient, fake_stripe: FakeStripe) -> None:
    created = await _create(api)
    session_id = created.json()["id"]
    retrieved = await api.get(f"/v1/checkout/sessions/{session_id}")
    fake_stripe.complete(session_id)
    intent = fake_stripe.sessions[session_id]["payment_intent"]
    refunded = await api.post("/v1/refunds", data={"payment_intent": intent, "amount": "4000"})
    event = await api.get(f"/v1/events/{fake_stripe.event_ids('charge.refunded')[0]}")
    second = (await _create(api, key="key-2")).json()["id"]
    expired = await api.post(f"/v1/checkout/sessions/{second}/expire")
    not_open = await api.post(f"/v1/checkout/sessions/{second}/expire")
    missing = await api.get("/v1/checkout/sessions/cs_test_missing")

    statuses = [r.status_code for r in (created, retrieved, refunded, event, expired, not_open, missing)]
    assert statuses == [200, 200, 200, 200, 200, 400, 404]
    for response in (created, retrieved, expired):
        _assert_valid("checkout.session", response.json())
    _assert_valid("refund", refunded.json())
    _assert_valid("event", event.json())
    for response in (not_open, missing):
        _assert_valid("error", response.json())


async def test_webhook_events_match_the_spec(api: httpx.AsyncClient, fake_stripe: FakeStripe) -> None:
    session_id = (await _create(api)).json()["id"]
    fake_stripe.complete(session_id, paid=False)
    fake_stripe.succeed_async(session_id)
    await api.post("/v1/refunds", data={"payment_intent": fake_stripe.sessions[session_id]["payment_intent"]})
    fake_stripe.expire((await _create(api, key="key-2")).json()["id"])

    for event_id, event in fake_stripe.events.items():
        delivered = json.loads(fake_stripe.webhook(event_id).payload)
        _assert_valid("event", delivered)
        data_schema = {"checkout.session": "checkout.session", "refund": "refund"}.get(
            event["data"]["object"]["object"]
        )
        if data_schema:
            _assert_valid(data_schema, delivered["data"]["object"])
    assert {e["type"] for e in fake_stripe.events.values()} >= {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.expired",
        "refund.created",
        "charge.refunded",
    }


async def test_local_gateway_events_match_the_spec() -> None:
    gateway = LocalTestGateway("whsec_fake_local", "http://booking.test")
    request = CheckoutRequest(
        "bk1", "Ann Tutor, Mon 09:00", Money(9000, "EUR"), "c@example.com", _soon(), "k"
    )
    session = await gateway.start_checkout(request)
    document = json.loads(gateway.pay(session.id).payload)
    _assert_valid("event", document)
    _assert_valid("checkout.session", document["data"]["object"])
    assert document["type"] == "checkout.session.completed"


async def test_same_key_same_params_replays(api: httpx.AsyncClient, fake_stripe: FakeStripe) -> None:
    first, again = await _create(api), await _create(api)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert len(fake_stripe.sessions) == 1


async def test_same_key_other_params_is_an_idempotency_error(api: httpx.AsyncClient) -> None:
    await _create(api)
    reused = await _create(api, client_reference_id="bk2")
    assert reused.status_code == 400
    assert reused.json()["error"]["type"] == "idempotency_error"


@pytest.mark.parametrize("offset", [29 * 60, 24 * 3600 + 60])
async def test_expires_at_must_be_30_minutes_to_24_hours_away(api: httpx.AsyncClient, offset: int) -> None:
    response = await _create(api, expires_at=str(int(time.time()) + offset))
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "expires_at"


async def test_payment_method_types_is_no_longer_a_parameter(api: httpx.AsyncClient) -> None:
    response = await _create(api, **{"payment_method_types[0]": "card"})
    assert response.json()["error"]["param"] == "payment_method_types"


async def test_refund_cannot_exceed_the_payment(api: httpx.AsyncClient, fake_stripe: FakeStripe) -> None:
    session_id = (await _create(api)).json()["id"]
    fake_stripe.complete(session_id)
    intent = fake_stripe.sessions[session_id]["payment_intent"]
    too_much = await api.post("/v1/refunds", data={"payment_intent": intent, "amount": "9001"})
    assert (too_much.status_code, too_much.json()["error"]["code"]) == (400, "amount_too_large")


async def test_requests_need_a_test_key(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/checkout/sessions/cs_test_x", headers={"authorization": "Bearer nope"})
    assert response.status_code == 401


async def test_fault_switches(api: httpx.AsyncClient, fake_stripe: FakeStripe) -> None:
    fake_stripe.fail_next(500)
    fake_stripe.fail_next(429)
    failed, limited, fine = await _create(api), await _create(api), await _create(api)
    assert [failed.status_code, limited.status_code, fine.status_code] == [500, 429, 200]
    assert failed.json()["error"]["type"] == "api_error"


def _soon() -> datetime:
    return datetime.now(UTC) + timedelta(hours=1)


async def test_a_complete_session_cannot_be_expired(api: httpx.AsyncClient, fake_stripe: FakeStripe) -> None:
    session_id = (await _create(api)).json()["id"]
    fake_stripe.complete(session_id)
    refused = await api.post(f"/v1/checkout/sessions/{session_id}/expire")
    assert refused.status_code == 400
    _assert_valid("error", refused.json())
    assert fake_stripe.sessions[session_id]["status"] == "complete"
