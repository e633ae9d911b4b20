"""A fake Stripe API for tests and benchmarks: the five paths of the spec excerpt, its rules, its errors.

`FakeStripe().app()` is a Starlette app; `running(fake)` serves it with uvicorn on 127.0.0.1 in a
thread, so the real SDK can talk to it. Test hooks complete, expire or fail sessions and return the
signed webhook Stripe would send; `deliver` posts such webhooks to the app under test.
"""

from __future__ import annotations

import asyncio
import copy
import json
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl

import httpx
import uvicorn
from attrs import define, field, frozen
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from booking_adapters.stripe import objects
from booking_adapters.stripe.local import SignedWebhook
from booking_adapters.stripe.signing import signature_headers

JsonObject = objects.JsonObject

MIN_EXPIRY_SECONDS = 30 * 60
MAX_EXPIRY_SECONDS = 24 * 60 * 60


class StripeApiError(Exception):
    """An error answer in Stripe's shape: `{"error": {"type", "code", "param", "message"}}`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        kind: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.body = status, {"type": kind, "message": message, "code": code, "param": param}

    def payload(self) -> JsonObject:
        return {"error": {k: v for k, v in self.body.items() if v is not None}}

    def response(self) -> JSONResponse:
        return JSONResponse(self.payload(), self.status)


@frozen
class RecordedRequest:
    method: str
    path: str
    params: JsonObject
    idempotency_key: str | None


@frozen
class _Reply:
    fingerprint: tuple[str, str, str]
    status: int
    body: JsonObject


def decode_form(body: bytes) -> JsonObject:
    """`line_items[0][price_data][currency]=eur` -> {"line_items": [{"price_data": {"currency": "eur"}}]}."""
    tree: JsonObject = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        parts = key.replace("]", "").split("[")
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    decoded: JsonObject = _lists(tree)
    return decoded


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(key.isdigit() for key in node):
        return [_lists(node[key]) for key in sorted(node, key=int)]
    return {key: _lists(value) for key, value in node.items()}


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


@define
class FakeStripe:
    webhook_secret: str = "whsec_fake_stripe_endpoint"  # noqa: S105 (a test secret)
    checkout_page: str = "https://checkout.stripe.test/c/pay"
    hang_seconds: float = 3.0  # how long a hung request stalls; keep it above the client's timeout
    sessions: dict[str, JsonObject] = field(factory=dict)
    refunds: dict[str, JsonObject] = field(factory=dict)
    events: dict[str, JsonObject] = field(factory=dict)
    requests: list[RecordedRequest] = field(factory=list)
    # payment_intent_data[metadata] per session: the charge of its payment carries it, as Stripe's does
    intent_metadata: dict[str, dict[str, str]] = field(factory=dict)
    _replies: dict[str, _Reply] = field(factory=dict)
    _faults: deque[str] = field(factory=deque)
    _lock: threading.Lock = field(factory=threading.Lock)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/checkout/sessions", self._endpoint(self._create_session), methods=["POST"]),
                Route("/v1/checkout/sessions/{id}", self._endpoint(self._retrieve_session), methods=["GET"]),
                Route("/v1/checkout/sessions/{id}/expire", self._endpoint(self._expire), methods=["POST"]),
                Route("/v1/refunds", self._endpoint(self._create_refund), methods=["POST"]),
                Route("/v1/events/{id}", self._endpoint(self._retrieve_event), methods=["GET"]),
            ]
        )

    # -- switches ---------------------------------------------------------------------------------

    def fail_next(self, status: int, times: int = 1) -> None:
        """Answer the next `times` requests with `status` (500 or 429) before touching any state."""
        self._faults.extend([str(status)] * times)

    def hang_next(self, times: int = 1) -> None:
        """Stall the next `times` requests for `hang_seconds` before answering them normally."""
        self._faults.extend(["hang"] * times)

    # -- hooks: what the client or Stripe does ------------------------------------------------------

    def complete(
        self, session_id: str, *, paid: bool = True, amount_total: int | None = None
    ) -> SignedWebhook:
        """The client finished checkout; `paid=False` is a delayed method (e.g. SEPA) still on its way."""
        with self._lock:
            session = self._open_session(session_id)
            session.update(status="complete", url=None, payment_intent=_new_id("pi"))
            session["payment_status"] = "paid" if paid else "unpaid"
            if amount_total is not None:
                session["amount_total"] = session["amount_subtotal"] = amount_total
            return self._emit("checkout.session.completed", session)

    def succeed_async(self, session_id: str) -> SignedWebhook:
        with self._lock:
            session = self.sessions[session_id]
            session["payment_status"] = "paid"
            return self._emit("checkout.session.async_payment_succeeded", session)

    def fail_async(self, session_id: str) -> SignedWebhook:
        with self._lock:
            return self._emit("checkout.session.async_payment_failed", self.sessions[session_id])

    def expire(self, session_id: str) -> SignedWebhook:
        with self._lock:
            session = self._open_session(session_id)
            session.update(status="expired", url=None)
            return self._emit("checkout.session.expired", session)

    def refund_in_dashboard(self, session_id: str, amount: int | None = None) -> list[SignedWebhook]:
        """Someone refunds the session's payment by hand in the Dashboard (no metadata on the
        refund): the `refund.created` and `charge.refunded` webhooks Stripe sends then."""
        with self._lock:
            params: JsonObject = {"payment_intent": self.sessions[session_id]["payment_intent"]}
            if amount is not None:
                params["amount"] = str(amount)
            before = set(self.events)
            self._create_refund(None, params)
            return [self.webhook(event_id) for event_id in self.events if event_id not in before]

    def webhook(self, event_id: str, *, timestamp: int | None = None) -> SignedWebhook:
        """The signed delivery of a stored event (e.g. the refund events a refund emitted)."""
        payload = _json(self.events[event_id])
        return SignedWebhook(payload, signature_headers(payload, self.webhook_secret, timestamp=timestamp))

    def event_ids(self, event_type: str) -> list[str]:
        return [event_id for event_id, event in self.events.items() if event["type"] == event_type]

    def session_of(self, booking_id: str) -> JsonObject:
        return next(s for s in self.sessions.values() if s["client_reference_id"] == booking_id)

    async def deliver(
        self,
        client: httpx.AsyncClient,
        webhooks: Sequence[SignedWebhook],
        *,
        path: str = "/api/webhooks/stripe",
        duplicate: bool = False,
        reverse: bool = False,
    ) -> list[httpx.Response]:
        """Post webhooks as Stripe would: in order, or reversed, or each twice."""
        ordered = list(reversed(webhooks)) if reverse else list(webhooks)
        if duplicate:
            ordered = [w for w in ordered for _ in range(2)]
        return [await client.post(path, content=w.payload, headers=w.headers) for w in ordered]

    # -- the API ----------------------------------------------------------------------------------

    def _endpoint(self, operation: Any) -> Any:
        async def endpoint(request: Request) -> JSONResponse:
            params = decode_form(await request.body()) if request.method == "POST" else {}
            key = request.headers.get("idempotency-key")
            self.requests.append(RecordedRequest(request.method, request.url.path, params, key))
            try:
                await self._fault()
                _authorise(request)
                fingerprint = (request.method, request.url.path, _json(params).decode())
                with self._lock:
                    return self._idempotent(key, fingerprint, lambda: operation(request, params))
            except StripeApiError as error:
                return error.response()

        return endpoint

    async def _fault(self) -> None:
        fault = self._faults.popleft() if self._faults else None
        if fault == "hang":
            await asyncio.sleep(self.hang_seconds)
        elif fault == "429":
            raise StripeApiError(429, "Too many requests hit the API too quickly.", code="rate_limit")
        elif fault is not None:
            raise StripeApiError(int(fault), "Something went wrong on Stripe's end.", kind="api_error")

    def _idempotent(self, key: str | None, fingerprint: tuple[str, str, str], run: Any) -> JSONResponse:
        if key is None or fingerprint[0] != "POST":
            return JSONResponse(run())
        stored = self._replies.get(key)
        if stored is not None:
            if stored.fingerprint != fingerprint:
                raise StripeApiError(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters they were "
                    f"first used with. Try using a key other than '{key}' if you meant to execute a "
                    "different request.",
                    kind="idempotency_error",
                )
            return JSONResponse(stored.body, stored.status, headers={"idempotent-replayed": "true"})
        try:
            body, status = run(), 200
        except StripeApiError as error:  # Stripe replays 4xx answers too
            body, status = error.payload(), error.status
        self._replies[key] = _Reply(fingerprint, status, body)
        return JSONResponse(body, status)

    def _create_session(self, _request: Request, params: JsonObject) -> JsonObject:
        if "payment_method_types" in params:
            raise StripeApiError(
                400, "Received unknown parameter: payment_method_types", param="payment_method_types"
            )
        if params.get("mode") != "payment":
            raise StripeApiError(400, "This fake supports mode=payment only.", param="mode")
        created = int(time.time())
        expires_at = _integer(params, "expires_at", default=created + MAX_EXPIRY_SECONDS)
        if not created + MIN_EXPIRY_SECONDS <= expires_at <= created + MAX_EXPIRY_SECONDS:
            raise StripeApiError(
                400,
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout "
                "Session creation.",
                param="expires_at",
            )
        client_reference_id = params.get("client_reference_id")
        if client_reference_id is not None and len(client_reference_id) > 200:
            raise StripeApiError(
                400, "client_reference_id is too long (at most 200).", param="client_reference_id"
            )
        metadata = _metadata(params.get("metadata", {}), "metadata")
        intent_metadata = _metadata(
            params.get("payment_intent_data", {}).get("metadata", {}), "payment_intent_data[metadata]"
        )
        amount_total, currency = _line_items_total(params.get("line_items"))
        session_id = _new_id("cs_test")
        session = objects.checkout_session(
            session_id=session_id,
            created=created,
            expires_at=expires_at,
            url=f"{self.checkout_page}/{session_id}",
            amount_total=amount_total,
            currency=currency,
            client_reference_id=client_reference_id,
            customer_email=params.get("customer_email"),
            metadata=metadata,
            success_url=params.get("success_url"),
            cancel_url=params.get("cancel_url"),
        )
        self.sessions[session_id] = session
        self.intent_metadata[session_id] = intent_metadata
        return copy.deepcopy(session)

    def _retrieve_session(self, request: Request, _params: JsonObject) -> JsonObject:
        return copy.deepcopy(self._find(self.sessions, request.path_params["id"], "session"))

    def _expire(self, request: Request, _params: JsonObject) -> JsonObject:
        session = self._find(self.sessions, request.path_params["id"], "session")
        if session["status"] != "open":
            raise StripeApiError(400, 'Only Checkout Sessions with a status in ["open"] can be expired.')
        session.update(status="expired", url=None)
        self._emit("checkout.session.expired", session)
        return copy.deepcopy(session)

    def _create_refund(self, _request: Request | None, params: JsonObject) -> JsonObject:
        intent = params.get("payment_intent")
        session = next((s for s in self.sessions.values() if intent and s["payment_intent"] == intent), None)
        if session is None or session["payment_status"] != "paid":
            raise StripeApiError(
                400, f"No such payment_intent: '{intent}'", code="resource_missing", param="payment_intent"
            )
        refunded = sum(r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent)
        left = session["amount_total"] - refunded
        amount = _integer(params, "amount", default=left)
        if not 0 < amount <= left:
            raise StripeApiError(
                400,
                "Refund amount is greater than the unrefunded amount.",
                code="amount_too_large",
                param="amount",
            )
        refund = objects.refund(
            refund_id=_new_id("re"),
            created=int(time.time()),
            amount=amount,
            currency=session["currency"],
            payment_intent=str(intent),
            metadata=params.get("metadata"),
        )
        self.refunds[refund["id"]] = refund
        self._emit("refund.created", refund)
        charge = {
            "id": f"ch_{intent}",
            "object": "charge",
            "amount": session["amount_total"],
            "amount_refunded": refunded + amount,
            "currency": session["currency"],
            "metadata": dict(self.intent_metadata.get(session["id"], {})),
            "payment_intent": intent,
            "refunded": refunded + amount == session["amount_total"],
        }
        self._emit("charge.refunded", charge)
        return copy.deepcopy(refund)

    def _retrieve_event(self, request: Request, _params: JsonObject) -> JsonObject:
        return copy.deepcopy(self._find(self.events, request.path_params["id"], "id"))

    # -- inside -----------------------------------------------------------------------------------

    def _open_session(self, session_id: str) -> JsonObject:
        session = self.sessions[session_id]
        if session["status"] != "open":
            raise ValueError(f"session {session_id} is {session['status']}, not open")
        return session

    def _emit(self, event_type: str, data_object: JsonObject) -> SignedWebhook:
        event = objects.event(
            event_id=_new_id("evt"),
            event_type=event_type,
            created=int(time.time()),
            data_object=copy.deepcopy(data_object),
        )
        self.events[event["id"]] = event
        return self.webhook(event["id"])

    @staticmethod
    def _find(table: dict[str, JsonObject], key: str, param: str) -> JsonObject:
        if key not in table:
            raise StripeApiError(404, f"No such {param}: '{key}'", code="resource_missing", param=param)
        return table[key]


def _authorise(request: Request) -> None:
    if not request.headers.get("authorization", "").startswith("Bearer sk_test_"):
        raise StripeApiError(401, "Invalid API Key provided.")


def _json(document: JsonObject) -> bytes:
    return json.dumps(document, sort_keys=True).encode()


def _integer(params: JsonObject, name: str, *, default: int) -> int:
    value = params.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StripeApiError(400, f"Invalid integer: {value}", param=name) from None


def _metadata(metadata: Any, param: str) -> dict[str, str]:
    if not isinstance(metadata, dict) or len(metadata) > 50:
        raise StripeApiError(400, "Metadata takes at most 50 string keys.", param=param)
    for key, value in metadata.items():
        if len(key) > 40 or len(value) > 500:
            raise StripeApiError(
                400, "Metadata keys take 40 characters, values 500.", param=f"{param}[{key}]"
            )
    return dict(metadata)


def _line_items_total(line_items: Any) -> tuple[int, str]:
    if not isinstance(line_items, list) or not line_items:
        raise StripeApiError(400, "You must specify `line_items` in `payment` mode.", param="line_items")
    total, currencies = 0, set()
    for index, item in enumerate(line_items):
        price = item.get("price_data") or {}
        name = (price.get("product_data") or {}).get("name")
        if not name or len(str(price.get("currency", ""))) != 3:
            raise StripeApiError(
                400,
                "Each line item needs price_data with a currency and a product name.",
                param=f"line_items[{index}][price_data]",
            )
        total += _integer(price, "unit_amount", default=-1) * _integer(item, "quantity", default=1)
        currencies.add(price["currency"].lower())
    if total < 0 or len(currencies) != 1:
        raise StripeApiError(
            400, "Line items need one currency and non-negative amounts.", param="line_items"
        )
    return total, currencies.pop()


@contextmanager
def running(fake: FakeStripe) -> Iterator[str]:
    """Serve `fake` on a free 127.0.0.1 port in a thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(fake.app(), log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(200):  # up to 10 s to start
            if server.started:
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("the fake Stripe server did not start")
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
