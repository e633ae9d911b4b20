"""The OpenAPI 3.1 document of the JSON API, written by hand (the routes are few and stable)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from booking_core import PaymentOutcome
from booking_web.errors import STATUS_BY_ERROR, MalformedBody

Schema = dict[str, Any]

_ISO = {"type": "string", "format": "date-time"}
_STATUSES = ["pending_payment", "confirmed", "expired", "cancelled", "refund_due", "refunded"]
_ID = {"type": "string", "minLength": 1, "maxLength": 200}

SCHEMAS: dict[str, Schema] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "examples": sorted({e.code for e in STATUS_BY_ERROR})},
                    "message": {"type": "string"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                    "id": {"type": "string", "description": "error id of a 500, as logged"},
                },
            }
        },
    },
    "Money": {
        "type": "object",
        "required": ["amount", "currency"],
        "properties": {
            "amount": {"type": "integer", "minimum": 0, "description": "minor units (cents)"},
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "formatted": {"type": "string", "examples": ["90.00 EUR"]},
        },
    },
    "Practitioner": {
        "type": "object",
        "required": ["id", "name", "timezone", "session_minutes", "price", "cancellation_policy"],
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "timezone": {"type": "string", "examples": ["Europe/Berlin"]},
            "session_minutes": {"type": "integer"},
            "price": {"$ref": "#/components/schemas/Money"},
            "min_notice_hours": {"type": "number"},
            "horizon_days": {"type": "integer"},
            "availability_source": {"enum": ["schedule", "calcom"]},
            "cancellation_policy": {"$ref": "#/components/schemas/CancellationPolicy"},
        },
    },
    "CancellationPolicy": {
        "type": "object",
        "description": "What a cancellation refunds: everything with enough notice, a share after.",
        "required": ["full_refund_notice_hours", "late_refund_percent", "description"],
        "properties": {
            "full_refund_notice_hours": {
                "type": "number",
                "minimum": 0,
                "description": "cancelling at least this long before the start refunds in full",
                "examples": [24],
            },
            "late_refund_percent": {
                "type": "integer",
                "minimum": 0,
                "maximum": 100,
                "description": "the share refunded for a later cancellation",
                "examples": [50],
            },
            "description": {
                "type": "string",
                "examples": [
                    "Full refund if you cancel at least 24 hours before the session; after that, 50 % refund."
                ],
            },
        },
    },
    "Availability": {
        "type": "object",
        "required": ["practitioner_id", "timezone", "source", "slots"],
        "properties": {
            "practitioner_id": {"type": "string"},
            "timezone": {"type": "string"},
            "source": {"enum": ["schedule", "calcom", "calcom_stale", "schedule_fallback"]},
            "slots": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["start", "end"],
                    "properties": {"start": _ISO, "end": _ISO},
                },
            },
        },
    },
    "BookingRequest": {
        "type": "object",
        "required": ["practitioner_id", "start", "name", "email", "phone"],
        "properties": {
            "practitioner_id": {"type": "string", "examples": ["jane-doe"]},
            "start": _ISO | {"description": "a slot start from the availability, with its UTC offset"},
            "name": {"type": "string", "examples": ["Ann Example"]},
            "email": {"type": "string", "format": "email", "examples": ["ann@example.com"]},
            "phone": {"type": "string", "examples": ["+49 30 1234567"]},
            "timezone": {"type": "string", "description": "the client's IANA time zone, for messages"},
        },
    },
    "Booking": {
        "type": "object",
        "required": ["id", "status", "start", "end", "timezone", "hold_expires_at", "price", "practitioner"],
        "properties": {
            "id": {"type": "string"},
            "status": {"enum": _STATUSES},
            "start": _ISO,
            "end": _ISO,
            "timezone": {"type": "string"},
            "hold_expires_at": _ISO,
            "price": {"$ref": "#/components/schemas/Money"},
            "practitioner": {
                "type": "object",
                "required": ["id", "name"],
                "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
            },
        },
    },
    "NewBooking": {
        "allOf": [
            {"$ref": "#/components/schemas/Booking"},
            {
                "type": "object",
                "required": ["checkout_url", "checkout_session_id", "cancel_token"],
                "properties": {
                    "checkout_url": {"type": "string", "format": "uri"},
                    "checkout_session_id": {"type": "string"},
                    "cancel_token": {"type": "string", "description": "keep it: the only way to cancel"},
                },
            },
        ]
    },
    "CancelRequest": {
        "type": "object",
        "required": ["cancel_token"],
        "properties": {"cancel_token": {"type": "string"}},
    },
    # Stripe's event envelope, as its webhooks deliver it (docs/stripe.md lists the types acted on).
    "StripeEvent": {
        "type": "object",
        "required": ["id", "type", "livemode", "created", "data"],
        "properties": {
            "id": {"type": "string", "description": "evt_...; a second delivery answers `duplicate`"},
            "object": {"type": "string", "enum": ["event"]},
            "type": {"type": "string", "examples": ["checkout.session.completed", "charge.refunded"]},
            "livemode": {"type": "boolean", "description": "must match the API key: sk_live_ or sk_test_"},
            "created": {"type": "integer", "description": "Unix time"},
            "api_version": {"type": ["string", "null"]},
            "data": {
                "type": "object",
                "required": ["object"],
                "properties": {
                    "object": {"type": "object", "description": "a checkout.session, charge or refund"}
                },
            },
        },
    },
    "WebhookAnswer": {
        "type": "object",
        "required": ["received", "outcome"],
        "properties": {
            "received": {"type": "boolean", "enum": [True]},
            "outcome": {"type": "string", "enum": [outcome.value for outcome in PaymentOutcome]},
        },
    },
}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: Schema, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Schema]:
    always = (413, 500) if any(s in (400, 422) for s in statuses) else (500,)
    return {str(status): {"$ref": f"#/components/responses/E{status}"} for status in (*statuses, *always)}


def _path_param(name: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": _ID}


_ERROR_RESPONSES = {
    400: "The body is not valid JSON, the webhook signature does not match (`invalid_signature`), or a "
    "signed webhook body is not a Stripe event of the API key's mode (`invalid_event`).",
    403: "The cancel token does not belong to this booking.",
    404: "No such practitioner or booking.",
    409: "The slot is taken, or the booking can no longer change this way.",
    413: "The body is larger than the limit.",
    415: "The body was not sent as `Content-Type: application/json`.",
    422: "The body or query has the wrong shape or invalid fields (see `fields`), or the "
    "Idempotency-Key was used with another request (`idempotency_key_reused`).",
    429: "Too many booking attempts from this address (`rate_limited`; see Retry-After), or too many "
    "unpaid holds of this client or practitioner (`too_many_holds`; `fields` names the cap).",
    500: "An unexpected error; quote its `id`.",
    503: "A payment or calendar provider failed; nothing was booked. Try again shortly.",
}

PATHS: dict[str, Schema] = {
    "/api/practitioners": {
        "get": {
            "summary": "Every practitioner",
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["practitioners"],
                        "properties": {"practitioners": {"type": "array", "items": _ref("Practitioner")}},
                    },
                    "The practitioners",
                ),
                **_errors(),
            },
        }
    },
    "/api/practitioners/{practitioner_id}": {
        "get": {
            "summary": "One practitioner",
            "parameters": [_path_param("practitioner_id")],
            "responses": {"200": _json(_ref("Practitioner"), "The practitioner"), **_errors(404)},
        }
    },
    "/api/practitioners/{practitioner_id}/availability": {
        "get": {
            "summary": "Free slots between two dates (at most 62 days), in a time zone",
            "parameters": [
                _path_param("practitioner_id"),
                {"name": "start", "in": "query", "schema": {"type": "string", "format": "date"}},
                {"name": "end", "in": "query", "schema": {"type": "string", "format": "date"}},
                {"name": "timezone", "in": "query", "schema": {"type": "string"}},
            ],
            "responses": {"200": _json(_ref("Availability"), "Free slots"), **_errors(404, 422, 503)},
        }
    },
    "/api/bookings": {
        "post": {
            "summary": "Hold a slot and start checkout",
            "parameters": [
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "description": (
                        "a random key (UUID4) per booking: a retry of the same request with it returns "
                        "the same booking; another request with it is 422 idempotency_key_reused"
                    ),
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                }
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("BookingRequest")}},
            },
            "responses": {
                "201": _json(_ref("NewBooking"), "The held booking; pay at checkout_url"),
                **_errors(400, 404, 409, 415, 422, 429, 503),
            },
        }
    },
    "/api/bookings/{booking_id}": {
        "get": {
            "summary": "A booking's status and times (no contact details)",
            "parameters": [_path_param("booking_id")],
            "responses": {"200": _json(_ref("Booking"), "The booking"), **_errors(404)},
        }
    },
    "/api/bookings/{booking_id}/cancel": {
        "post": {
            "summary": "Cancel with the token handed out at booking",
            "parameters": [_path_param("booking_id")],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("CancelRequest")}},
            },
            "responses": {
                "200": _json(_ref("Booking"), "The cancelled booking"),
                **_errors(400, 403, 404, 409, 415, 422),
            },
        }
    },
    "/api/webhooks/stripe": {
        "post": {
            "summary": "Stripe's signed events (Stripe-Signature header)",
            "parameters": [
                {
                    "name": "Stripe-Signature",
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string"},
                    "description": "`t=<unix time>,v1=<HMAC-SHA256 of the raw body>` (docs/stripe.md)",
                }
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("StripeEvent")}},
            },
            "responses": {
                "200": _json(_ref("WebhookAnswer"), "Received; `outcome` says what it did"),
                **_errors(400, 503),
            },
        }
    },
    "/healthz": {"get": {"summary": "Alive", "responses": {"200": _json({"type": "object"}, "Alive")}}},
    "/readyz": {
        "get": {
            "summary": "Database reachable and schema current",
            "responses": {
                "200": _json({"type": "object"}, "Ready"),
                "503": _json({"type": "object"}, "Not ready; `problems` says why"),
            },
        }
    },
    "/metrics": {
        "get": {
            "summary": "Prometheus metrics",
            "responses": {"200": {"description": "Text exposition", "content": {"text/plain": {}}}},
        }
    },
}

DOCUMENT: Schema = {
    "openapi": "3.1.0",
    "info": {
        "title": "Booking engine",
        "version": "1",
        "description": f"Times are ISO 8601 with offset. Every error is an Error; e.g. {MalformedBody.code}.",
    },
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "responses": {
            f"E{status}": _json(_ref("Error"), description)
            for status, description in _ERROR_RESPONSES.items()
        },
    },
}


async def openapi_json(request: Request) -> Response:
    del request
    return JSONResponse(DOCUMENT)


route = Route("/openapi.json", openapi_json, methods=["GET"], include_in_schema=False)
