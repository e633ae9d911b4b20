"""The OpenAPI 3.1 document of the JSON API. The schemas of bodies are generated from the classes
that read and write them (booking_web.schema); written here is what types cannot say: the paths,
their status codes and words, operation ids and links."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from booking_core import BookingStatus
from booking_web.answers import (
    AliveJson,
    AvailabilityJson,
    BookedServiceJson,
    BookingJson,
    CalendarFeedJson,
    CancellationPolicyJson,
    ClientJson,
    MeJson,
    MoneyJson,
    MovedBookingJson,
    NewBookingJson,
    PractitionerBookingJson,
    PractitionerBookingListJson,
    PractitionerJson,
    PractitionerListJson,
    PractitionerRefJson,
    ReadinessJson,
    ServiceJson,
    SlotJson,
    TimeOffJson,
    TimeOffListJson,
    WebhookAnswerJson,
)
from booking_web.api import MAX_IDEMPOTENCY_KEY
from booking_web.errors import ErrorDetailJson, ErrorJson, MalformedBody
from booking_web.payloads import (
    BookingBody,
    CancelBody,
    PractitionerCancelBody,
    PractitionerRescheduleBody,
    RescheduleBody,
    TimeOffBody,
)
from booking_web.schema import Schema, component_schemas

# Components generated from the classes the converter writes (answers) and reads (requests).
ANSWERS: dict[str, type] = {
    "Error": ErrorJson,
    "ErrorDetail": ErrorDetailJson,
    "Money": MoneyJson,
    "Practitioner": PractitionerJson,
    "Me": MeJson,
    "PractitionerBooking": PractitionerBookingJson,
    "PractitionerBookingList": PractitionerBookingListJson,
    "Client": ClientJson,
    "PractitionerList": PractitionerListJson,
    "Service": ServiceJson,
    "CancellationPolicy": CancellationPolicyJson,
    "Availability": AvailabilityJson,
    "Slot": SlotJson,
    "Booking": BookingJson,
    "PractitionerRef": PractitionerRefJson,
    "BookedService": BookedServiceJson,
    "NewBooking": NewBookingJson,
    "MovedBooking": MovedBookingJson,
    "CalendarFeed": CalendarFeedJson,
    "WebhookAnswer": WebhookAnswerJson,
    "Alive": AliveJson,
    "Readiness": ReadinessJson,
    "TimeOff": TimeOffJson,
    "TimeOffList": TimeOffListJson,
}
REQUESTS: dict[str, type] = {
    "BookingRequest": BookingBody,
    "CancelRequest": CancelBody,
    "TimeOffRequest": TimeOffBody,
    "PractitionerCancelRequest": PractitionerCancelBody,
    "RescheduleRequest": RescheduleBody,
    "PractitionerRescheduleRequest": PractitionerRescheduleBody,
}

# Stripe's event envelope, as its webhooks deliver it (docs/stripe.md lists the types acted on). No
# class of ours reads it: the payment adapter parses it once the signature is checked.
STRIPE_EVENT: Schema = {
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
}

SCHEMAS: dict[str, Schema] = component_schemas(answers=ANSWERS, requests=REQUESTS) | {
    "StripeEvent": STRIPE_EVENT
}

_ID = {"type": "string", "minLength": 1, "maxLength": 200}

# Sequences a client (and schemathesis's stateful tests) may follow from a new booking.
NEW_BOOKING_LINKS: Schema = {
    "ReadTheBooking": {"operationId": "getBooking", "parameters": {"booking_id": "$response.body#/id"}},
    "CancelTheBooking": {
        "operationId": "cancelBooking",
        "parameters": {"booking_id": "$response.body#/id"},
        "requestBody": {"cancel_token": "$response.body#/cancel_token"},
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
    401: "No valid API token: send `Authorization: Bearer <token>` (`booking practitioners token ID`).",
    403: "The cancel token does not belong to this booking.",
    404: "No such practitioner, booking or time off (another practitioner's is not yours).",
    409: "The slot is taken (`slot_unavailable`), its day or week is at the practitioner's limit "
    "(`booking_limit_reached`), or the booking can no longer change this way (e.g. `session_started`, "
    "`session_not_over`, `no_show_window_closed`, `session_not_held`), or time off would cover "
    "live bookings (`time_off_conflicts`; `booking_ids` names them: cancel them first).",
    413: "The body is larger than the limit.",
    415: "The body was not sent as `Content-Type: application/json`.",
    422: "The body or query has the wrong shape or invalid fields (see `fields`), the "
    "Idempotency-Key was used with another request (`idempotency_key_reused`), or the booking may "
    "not be moved (`reschedule_not_allowed`; the message says why).",
    429: "Too many booking attempts (bookings and moves) from this address (`rate_limited`; see "
    "Retry-After), or too many unpaid holds of this client or practitioner (`too_many_holds`; `fields` names "
    "the cap), or too many free bookings of this practitioner by this client (`too_many_free_bookings`).",
    500: "An unexpected error; quote its `id`.",
    503: "A payment or calendar provider failed; nothing was booked or moved. Try again shortly.",
}

STATUS_VALUES = [status.value for status in BookingStatus]
# The practitioner's own endpoints take their API token (docs/practitioners.md).
BEARER: list[Schema] = [{"apiToken": []}]

PATHS: dict[str, Schema] = {
    "/api/practitioners": {
        "get": {
            "operationId": "listPractitioners",
            "summary": "Every practitioner",
            "responses": {
                "200": _json(_ref("PractitionerList"), "The practitioners"),
                **_errors(),
            },
        }
    },
    "/api/practitioners/{practitioner_id}": {
        "get": {
            "operationId": "getPractitioner",
            "summary": "One practitioner",
            "parameters": [_path_param("practitioner_id")],
            "responses": {"200": _json(_ref("Practitioner"), "The practitioner"), **_errors(404)},
        }
    },
    "/api/practitioners/{practitioner_id}/availability": {
        "get": {
            "operationId": "getAvailability",
            "summary": "Free slots between two dates (at most 62 days), in a time zone",
            "parameters": [
                _path_param("practitioner_id"),
                {"name": "start", "in": "query", "schema": {"type": "string", "format": "date"}},
                {"name": "end", "in": "query", "schema": {"type": "string", "format": "date"}},
                {"name": "timezone", "in": "query", "schema": {"type": "string"}},
                {
                    "name": "service",
                    "in": "query",
                    "description": (
                        "the id of one of the practitioner's services: required when there are "
                        "several, optional when there is one; missing or unknown: 422 naming service"
                    ),
                    "schema": {"type": "string"},
                },
            ],
            "responses": {"200": _json(_ref("Availability"), "Free slots"), **_errors(404, 422, 503)},
        }
    },
    "/api/bookings": {
        "post": {
            "operationId": "createBooking",
            "summary": "Hold a slot and start checkout",
            "parameters": [
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "description": (
                        "a random key (UUID4) per booking: a retry of the same request with it returns "
                        "the same booking; another request with it is 422 idempotency_key_reused"
                    ),
                    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY},
                }
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("BookingRequest")}},
            },
            "responses": {
                "201": _json(_ref("NewBooking"), "The held booking; pay at checkout_url")
                | {"links": NEW_BOOKING_LINKS},
                **_errors(400, 404, 409, 415, 422, 429, 503),
            },
        }
    },
    "/api/bookings/{booking_id}": {
        "get": {
            "operationId": "getBooking",
            "summary": "A booking's status and times (no contact details)",
            "parameters": [_path_param("booking_id")],
            "responses": {"200": _json(_ref("Booking"), "The booking"), **_errors(404)},
        }
    },
    "/api/bookings/{booking_id}/cancel": {
        "post": {
            "operationId": "cancelBooking",
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
    "/api/bookings/{booking_id}/reschedule": {
        "post": {
            "operationId": "rescheduleBooking",
            "summary": (
                "Move the booking, with the token handed out at booking, to another start of its service "
                "from the availability: same id, same payment. 409 slot_unavailable when the time is "
                "taken (the booking keeps its time), 422 reschedule_not_allowed with the reason (too "
                "late, moved too often, not a live booking), 422 naming `start` for a start not offered; "
                "rate-limited as booking attempts. A hold not yet paid gets a new payment page naming "
                "the new time (`checkout_url` in the answer; the old page is closed); 503 when the "
                "payment provider cannot open one (nothing moved)"
            ),
            "parameters": [_path_param("booking_id")],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("RescheduleRequest")}},
            },
            "responses": {
                "200": _json(_ref("MovedBooking"), "The booking at its new time"),
                **_errors(400, 403, 404, 409, 415, 422, 429, 503),
            },
        }
    },
    "/api/me": {
        "get": {
            "operationId": "getMe",
            "summary": "The practitioner the API token belongs to",
            "security": BEARER,
            "responses": {"200": _json(_ref("Me"), "The signed-in practitioner"), **_errors(401)},
        }
    },
    "/api/me/bookings": {
        "get": {
            "operationId": "listMyBookings",
            "summary": "The practitioner's bookings whose session overlaps whole days (at most 62), by start",
            "security": BEARER,
            "parameters": [
                {
                    "name": "start",
                    "in": "query",
                    "required": True,
                    "description": "the first day, in the practitioner's time zone",
                    "schema": {"type": "string", "format": "date"},
                },
                {
                    "name": "end",
                    "in": "query",
                    "required": True,
                    "description": "the last day (included), in the practitioner's time zone",
                    "schema": {"type": "string", "format": "date"},
                },
                {
                    "name": "status",
                    "in": "query",
                    "description": "only these statuses (repeated, or comma-separated); all if absent",
                    "schema": {"type": "array", "items": {"enum": STATUS_VALUES}},
                    "style": "form",
                    "explode": True,
                },
            ],
            "responses": {
                "200": _json(
                    _ref("PractitionerBookingList"), "The bookings, in the practitioner's time zone"
                ),
                **_errors(401, 422),
            },
        }
    },
    "/api/me/bookings/{booking_id}": {
        "get": {
            "operationId": "getMyBooking",
            "summary": "One of the practitioner's bookings (another practitioner's is 404)",
            "security": BEARER,
            "parameters": [_path_param("booking_id")],
            "responses": {"200": _json(_ref("PractitionerBooking"), "The booking"), **_errors(401, 404)},
        }
    },
    "/api/me/time-off": {
        "get": {
            "operationId": "listTimeOff",
            "summary": "The practitioner's time off not yet over",
            "security": BEARER,
            "responses": {"200": _json(_ref("TimeOffList"), "Time off, by start"), **_errors(401)},
        },
        "post": {
            "operationId": "addTimeOff",
            "summary": "Block a span (or whole local days): its slots leave the availability at once",
            "security": BEARER,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("TimeOffRequest")}},
            },
            "responses": {
                "201": _json(_ref("TimeOff"), "The time off"),
                **_errors(400, 401, 409, 415, 422),
            },
        },
    },
    "/api/me/time-off/{time_off_id}": {
        "delete": {
            "operationId": "removeTimeOff",
            "summary": "Remove time off: its slots are offered again",
            "security": BEARER,
            "parameters": [_path_param("time_off_id")],
            "responses": {"204": {"description": "Removed"}, **_errors(401, 404)},
        }
    },
    "/api/me/bookings/{booking_id}/cancel": {
        "post": {
            "operationId": "cancelMyBooking",
            "summary": (
                "Cancel one of the practitioner's bookings: what was paid goes back in full, a hold is "
                "released; a session that has started is 409 session_started"
            ),
            "security": BEARER,
            "parameters": [_path_param("booking_id")],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("PractitionerCancelRequest")}},
            },
            "responses": {
                "200": _json(_ref("PractitionerBooking"), "The cancelled booking"),
                **_errors(400, 401, 404, 409, 415, 422),
            },
        }
    },
    "/api/me/bookings/{booking_id}/reschedule": {
        "post": {
            "operationId": "rescheduleMyBooking",
            "summary": (
                "Move one of the practitioner's bookings to any free start still to come (outside "
                "the weekly schedule too; the client's notice and move count do not apply): 409 "
                "slot_unavailable when the time is taken, 422 reschedule_not_allowed once the session "
                "started or for a booking no longer live. A hold not yet paid gets a new payment page "
                "naming the new time (the old one is closed); 503 when the payment provider cannot "
                "open one (nothing moved)"
            ),
            "security": BEARER,
            "parameters": [_path_param("booking_id")],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("PractitionerRescheduleRequest")}},
            },
            "responses": {
                "200": _json(_ref("PractitionerBooking"), "The booking at its new time"),
                **_errors(400, 401, 404, 409, 415, 422, 503),
            },
        }
    },
    "/api/me/bookings/{booking_id}/no-show": {
        "post": {
            "operationId": "markNoShow",
            "summary": (
                "The client did not come: a confirmed or completed session becomes no_show, from its end "
                "until 7 days after (409 session_not_over, no_show_window_closed, session_not_held)"
            ),
            "security": BEARER,
            "parameters": [_path_param("booking_id")],
            "responses": {
                "200": _json(_ref("PractitionerBooking"), "The booking, now no_show"),
                **_errors(401, 404, 409),
            },
        },
        "delete": {
            "operationId": "undoNoShow",
            "summary": "Take a no-show back within the same 7 days: the session counts as completed",
            "security": BEARER,
            "parameters": [_path_param("booking_id")],
            "responses": {
                "200": _json(_ref("PractitionerBooking"), "The booking, now completed"),
                **_errors(401, 404, 409),
            },
        },
    },
    "/api/me/calendar": {
        "get": {
            "operationId": "getMyCalendarFeed",
            "summary": "The address of the practitioner's calendar feed (created on the first ask, "
            "the same on every later one); calendar apps subscribe to it. Keep it secret.",
            "security": BEARER,
            "responses": {"200": _json(_ref("CalendarFeed"), "The feed's address"), **_errors(401)},
        }
    },
    "/api/me/calendar/rotate": {
        "post": {
            "operationId": "rotateMyCalendarFeed",
            "summary": "A new address for the calendar feed; the old one answers 404 from now on",
            "security": BEARER,
            "responses": {"200": _json(_ref("CalendarFeed"), "The new address"), **_errors(401)},
        }
    },
    "/api/webhooks/stripe": {
        "post": {
            "operationId": "receiveStripeEvent",
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
    "/healthz": {
        "get": {
            "operationId": "healthz",
            "summary": "Alive",
            "responses": {"200": _json(_ref("Alive"), "Alive")},
        }
    },
    "/readyz": {
        "get": {
            "operationId": "readyz",
            "summary": "Database reachable and schema current",
            "responses": {
                "200": _json(_ref("Readiness"), "Ready"),
                "503": _json(_ref("Readiness"), "Not ready; `problems` says why"),
            },
        }
    },
    "/metrics": {
        "get": {
            "operationId": "metrics",
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
        "securitySchemes": {
            "apiToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "A practitioner's API token: `booking practitioners token ID` prints one.",
            }
        },
    },
}


async def openapi_json(request: Request) -> Response:
    del request
    return JSONResponse(DOCUMENT)


route = Route("/openapi.json", openapi_json, methods=["GET"], include_in_schema=False)
