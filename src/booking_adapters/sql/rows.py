"""Rows to domain objects and back; the only place that knows both shapes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from cattrs import Converter

from booking_core import (
    Booking,
    BookingEvent,
    BookingLimits,
    BookingStatus,
    ClientDetails,
    Money,
    Offer,
    Practitioner,
    Service,
    TimeOff,
    TimeRange,
    Trigger,
    WeeklySchedule,
)

# Offers, services and schedules go into JSON columns. This converter is private to the adapter so that the
# web layer's JSON format can change without touching stored rows (and the other way round).
_json = Converter()
_json.register_unstructure_hook(timedelta, lambda value: value.total_seconds())
_json.register_structure_hook(timedelta, lambda value, _type: timedelta(seconds=value))
_json.register_unstructure_hook(date, date.isoformat)
_json.register_structure_hook(date, lambda value, _type: date.fromisoformat(value))


def practitioner_row(practitioner: Practitioner) -> dict[str, Any]:
    return {
        "id": practitioner.id,
        "name": practitioner.name,
        "timezone": practitioner.timezone,
        "offer": _json.unstructure(practitioner.offer),
        "schedule": _json.unstructure(practitioner.schedule),
        "calcom_event_type_id": practitioner.calcom_event_type_id,
        "email": practitioner.email,
        "services": _json.unstructure(practitioner.services, tuple[Service, ...]),
        "limits": _json.unstructure(practitioner.limits),
    }


def practitioner_from_row(row: Mapping[Any, Any]) -> Practitioner:
    return Practitioner(
        id=row["id"],
        name=row["name"],
        offer=_json.structure(row["offer"], Offer),
        schedule=_json.structure(row["schedule"], WeeklySchedule),
        calcom_event_type_id=row["calcom_event_type_id"],
        email=row["email"],
        services=_json.structure(row["services"], tuple[Service, ...]),
        limits=_json.structure(row["limits"], BookingLimits),
    )


def _money_columns(name: str, money: Money | None) -> dict[str, Any]:
    return {
        f"{name}_amount": money.amount if money else None,
        f"{name}_currency": money.currency if money else None,
    }


def _money(row: Mapping[Any, Any], name: str) -> Money | None:
    amount = row[f"{name}_amount"]
    return None if amount is None else Money(amount, row[f"{name}_currency"])


def booking_row(booking: Booking) -> dict[str, Any]:
    return {
        "id": booking.id,
        "practitioner_id": booking.practitioner_id,
        "status": booking.status.value,
        "version": booking.version,
        "slot_start": booking.slot.start,
        "slot_end": booking.slot.end,
        "occupied_start": booking.occupied.start,
        "occupied_end": booking.occupied.end,
        "hold_expires_at": booking.hold_expires_at,
        "client_name": booking.client.name,
        "client_email": booking.client.email,
        "client_phone": booking.client.phone,
        "client_timezone": booking.client_timezone,
        **_money_columns("price", booking.price),
        "cancel_token_hash": booking.cancel_token_hash,
        "idempotency_key": booking.idempotency_key,
        "checkout_session_id": booking.checkout_session_id,
        "checkout_url": booking.checkout_url,
        "payment_intent_id": booking.payment_intent_id,
        **_money_columns("amount_paid", booking.amount_paid),
        **_money_columns("refund_owed", booking.refund_owed),
        "refund_id": booking.refund_id,
        **_money_columns("amount_refunded", booking.amount_refunded),
        "calendar_uid": booking.calendar_uid,
        "payment_check_due": booking.payment_check_due,
        "client_address": booking.client_address,
        "request_hash": booking.request_hash,
        "service_id": booking.service_id,
        "service_name": booking.service_name,
        "reschedule_count": booking.reschedule_count,
        "replaced_checkouts": " ".join(booking.replaced_checkouts) or None,
        "created_at": booking.created_at,
        "updated_at": booking.updated_at,
    }


def booking_from_row(row: Mapping[Any, Any]) -> Booking:
    price = _money(row, "price")
    assert price is not None  # NOT NULL columns
    return Booking(
        id=row["id"],
        practitioner_id=row["practitioner_id"],
        slot=TimeRange(row["slot_start"], row["slot_end"]),
        occupied=TimeRange(row["occupied_start"], row["occupied_end"]),
        client=ClientDetails(row["client_name"], row["client_email"], row["client_phone"]),
        client_timezone=row["client_timezone"],
        price=price,
        status=BookingStatus(row["status"]),
        hold_expires_at=row["hold_expires_at"],
        cancel_token_hash=row["cancel_token_hash"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
        idempotency_key=row["idempotency_key"],
        checkout_session_id=row["checkout_session_id"],
        checkout_url=row["checkout_url"],
        payment_intent_id=row["payment_intent_id"],
        amount_paid=_money(row, "amount_paid"),
        refund_owed=_money(row, "refund_owed"),
        refund_id=row["refund_id"],
        amount_refunded=_money(row, "amount_refunded"),
        calendar_uid=row["calendar_uid"],
        payment_check_due=bool(row["payment_check_due"]),
        client_address=row["client_address"],
        request_hash=row["request_hash"],
        service_id=row["service_id"],
        service_name=row["service_name"],
        reschedule_count=row["reschedule_count"],
        replaced_checkouts=tuple((row["replaced_checkouts"] or "").split()),
    )


def _span_columns(name: str, span: TimeRange | None) -> dict[str, Any]:
    """A TimeRange value as two columns (both NULL for None)."""
    return {f"{name}_start": span.start if span else None, f"{name}_end": span.end if span else None}


def _span(row: Mapping[Any, Any], name: str) -> TimeRange | None:
    start = row[f"{name}_start"]
    return None if start is None else TimeRange(start, row[f"{name}_end"])


def event_row(event: BookingEvent) -> dict[str, Any]:
    return {
        "booking_id": event.booking_id,
        "trigger": event.trigger.value,
        "from_status": event.from_status.value if event.from_status else None,
        "to_status": event.to_status.value,
        "at": event.at,
        "reason": event.reason,
        **_span_columns("moved_from", event.moved_from),
        **_span_columns("moved_to", event.moved_to),
    }


def event_from_row(row: Mapping[Any, Any]) -> BookingEvent:
    return BookingEvent(
        booking_id=row["booking_id"],
        trigger=Trigger(row["trigger"]),
        from_status=BookingStatus(row["from_status"]) if row["from_status"] else None,
        to_status=BookingStatus(row["to_status"]),
        at=row["at"],
        reason=row["reason"],
        moved_from=_span(row, "moved_from"),
        moved_to=_span(row, "moved_to"),
    )


def time_off_row(time_off: TimeOff) -> dict[str, Any]:
    return {
        "id": time_off.id,
        "practitioner_id": time_off.practitioner_id,
        "span_start": time_off.span.start,
        "span_end": time_off.span.end,
        "note": time_off.note,
        "created_at": time_off.created_at,
    }


def time_off_from_row(row: Mapping[Any, Any]) -> TimeOff:
    return TimeOff(
        id=row["id"],
        practitioner_id=row["practitioner_id"],
        span=TimeRange(row["span_start"], row["span_end"]),
        created_at=row["created_at"],
        note=row["note"],
    )
