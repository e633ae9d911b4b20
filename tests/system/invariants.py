"""What must hold in the database after any torture, checked with SQL against the tables themselves
and against the fake Stripe server's record of sessions and refunds. Each check returns problems."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg.rows import dict_row

Row = dict[str, Any]

OVERLAPPING_LIVE = """
SELECT a.id AS first, b.id AS second
FROM bookings a JOIN bookings b
  ON a.practitioner_id = b.practitioner_id AND a.id < b.id
 AND a.occupied_start < b.occupied_end AND b.occupied_start < a.occupied_end
WHERE a.status IN ('pending_payment', 'confirmed') AND b.status IN ('pending_payment', 'confirmed')
"""


def _rows(database_url: str, query: str) -> list[Row]:
    with psycopg.connect(database_url, row_factory=dict_row) as connection:
        return connection.execute(query).fetchall()


def overlapping_live_bookings(database_url: str) -> list[str]:
    """No two bookings that keep a slot (pending or confirmed; a lapsed hold included) overlap."""
    return [
        f"live bookings {r['first']} and {r['second']} overlap" for r in _rows(database_url, OVERLAPPING_LIVE)
    ]


def paid_sessions_unaccounted(
    database_url: str, sessions: Mapping[str, Row], refunds: Mapping[str, Row]
) -> list[str]:
    """Every paid session is exactly one confirmed booking, or its money went back in full; every
    confirmed booking was paid; nothing paid in full was also refunded."""
    bookings = {row["id"]: row for row in _rows(database_url, "SELECT * FROM bookings")}
    refunded: dict[str, int] = defaultdict(int)
    for refund in refunds.values():
        refunded[refund["payment_intent"]] += refund["amount"]
    problems, paid_bookings = [], set()
    for session in sessions.values():
        booking = bookings.get(session["client_reference_id"])
        if session["payment_status"] != "paid":
            continue
        if booking is None:
            problems.append(f"paid session {session['id']} has no booking")
            continue
        paid_bookings.add(booking["id"])
        back = refunded[session["payment_intent"]]
        confirmed = (
            booking["status"] == "confirmed" and booking["payment_intent_id"] == session["payment_intent"]
        )
        if confirmed and back == 0:
            continue
        if not confirmed and back == session["amount_total"] and booking["refund_id"] is not None:
            continue
        problems.append(
            f"paid session {session['id']}: booking {booking['id']} is {booking['status']}, "
            f"{back} of {session['amount_total']} refunded"
        )
    for booking in bookings.values():
        if booking["status"] == "confirmed" and booking["id"] not in paid_bookings:
            problems.append(f"booking {booking['id']} is confirmed without a paid session")
    return problems


_BEGINNINGS = {("hold_placed", None, "pending_payment"), ("booked_free", None, "confirmed")}


def history_gaps(database_url: str) -> list[str]:
    """Each booking's history starts from nothing with hold_placed (or, for a free service's booking,
    booked_free), chains from_status to the previous to_status, and ends in the booking's status; no
    event names a booking that does not exist."""
    statuses = {row["id"]: row["status"] for row in _rows(database_url, "SELECT id, status FROM bookings")}
    histories: dict[str, list[Row]] = defaultdict(list)
    for event in _rows(database_url, "SELECT * FROM booking_events ORDER BY seq"):
        histories[event["booking_id"]].append(event)
    problems = [f"events for unknown booking {b}" for b in histories if b not in statuses]
    for booking_id, status in statuses.items():
        events = histories.get(booking_id, [])
        if not events:
            problems.append(f"booking {booking_id} has no history")
            continue
        first = events[0]
        if (first["trigger"], first["from_status"], first["to_status"]) not in _BEGINNINGS:
            problems.append(
                f"booking {booking_id} starts with {first['trigger']} from {first['from_status']}"
            )
        for before, after in itertools.pairwise(events):
            if after["from_status"] != before["to_status"]:
                problems.append(
                    f"booking {booking_id}: {after['trigger']} from {after['from_status']} "
                    f"follows {before['trigger']} to {before['to_status']}"
                )
        if events[-1]["to_status"] != status:
            problems.append(
                f"booking {booking_id} is {status}, its history ends in {events[-1]['to_status']}"
            )
    return problems


def status_counts(database_url: str) -> dict[str, int]:
    rows = _rows(database_url, "SELECT status, count(*) AS n FROM bookings GROUP BY status")
    return {row["status"]: row["n"] for row in rows}


def reasons(database_url: str) -> set[str]:
    return {row["reason"] for row in _rows(database_url, "SELECT DISTINCT reason FROM booking_events")}
