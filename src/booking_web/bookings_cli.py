"""`booking bookings list/show/cancel/move`: what an operator sees of bookings, and the cancellation
and the move they make for a practitioner, under the practitioner's rules
(`Booking.cancel_by_practitioner`, `Booking.reschedule`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

from booking_core import (
    Booking,
    BookingEvent,
    BookingStatus,
    Practitioner,
    TimeRange,
    UnknownPractitioner,
    zone,
)
from booking_web.answers import PractitionerBookingJson
from booking_web.bootstrap import Container
from booking_web.converter import json_converter
from booking_web.local_days import days_window, today_in

DEFAULT_DAYS = 30  # listed from --start when --end is not given
# Ids made before new ones stopped starting with a dash need "--" before them on a command line.
_ID_HELP = 'the booking id (one starting with "-" goes after "--": show -- -Xy...)'

Run = Callable[[argparse.Namespace], None]


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser], run: Run) -> None:
    """The `bookings` commands; `run` opens a container and calls the parsed `work(container, args)`."""
    bookings = commands.add_parser("bookings", help="list, show, cancel and move bookings")
    actions = bookings.add_subparsers(dest="action", required=True)

    listing = actions.add_parser(
        "list", help="bookings starting within a range of days (each practitioner's local days), by start"
    )
    listing.add_argument(
        "--practitioner", metavar="ID", help="only theirs, a removed one's too (default: everyone listed)"
    )
    listing.add_argument("--start", type=_day, metavar="YYYY-MM-DD", help="the first day (default: today)")
    listing.add_argument(
        "--end",
        type=_day,
        metavar="YYYY-MM-DD",
        help=f"the last day, included (default: {DEFAULT_DAYS} days after the start)",
    )
    listing.add_argument("--status", choices=[status.value for status in BookingStatus])
    listing.add_argument("--json", action="store_true", help="a JSON array, for scripts")
    listing.set_defaults(run=run, work=_list)

    show = actions.add_parser("show", help="one booking with its history")
    show.add_argument("id", help=_ID_HELP)
    show.set_defaults(run=run, work=_show)

    cancel = actions.add_parser(
        "cancel",
        help="cancel for the practitioner: every cent paid goes back, an unpaid hold is released, "
        "the client is e-mailed; refused once the session has started",
    )
    cancel.add_argument("id", help=_ID_HELP)
    cancel.add_argument("--reason", required=True, help="recorded in the history and told the practitioner")
    cancel.set_defaults(run=run, work=_cancel)

    move = actions.add_parser(
        "move",
        help="move for the practitioner to another start still to come where the session is free "
        "(their weekly schedule does not bind it): same booking, same payment",
    )
    move.add_argument("id", help=_ID_HELP)
    move.add_argument(
        "start",
        type=_instant,
        metavar="START",
        help="the new start with its UTC offset, e.g. 2030-01-15T14:00+01:00",
    )
    move.add_argument("--reason", default="", help="told the client (at most 500 characters)")
    move.set_defaults(run=run, work=_move)


def _instant(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date-time like 2030-01-07T09:00+01:00") from None


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2030-01-07") from None


async def _list(container: Container, args: argparse.Namespace) -> None:
    directory = container.service.directory
    if args.practitioner:
        practitioners = [await _practitioner(container, args.practitioner)]
    else:
        practitioners = list(await directory.list())
    statuses = frozenset({BookingStatus(args.status)}) if args.status else None
    listed: list[tuple[Booking, Practitioner]] = []
    for practitioner in practitioners:
        first = args.start or today_in(practitioner.timezone, container.service.clock)
        last = args.end or first + timedelta(days=DEFAULT_DAYS)
        if last < first:
            print(f"--end ({last}) must not be before the start ({first})", file=sys.stderr)
            raise SystemExit(2)
        window = TimeRange(*days_window(first, last, practitioner.timezone))
        found = await container.service.store.bookings_of(practitioner.id, window, statuses)
        listed += [(booking, practitioner) for booking in found]
    listed.sort(key=lambda listing: (listing[0].slot.start, listing[0].id))
    if args.json:
        print(json.dumps([booking_json(booking, practitioner) for booking, practitioner in listed], indent=2))
        return
    _print_table(listed)


def booking_json(booking: Booking, practitioner: Practitioner) -> dict[str, object]:
    """What /api/me/bookings answers of a booking, and whose it is."""
    answer = json_converter.unstructure(PractitionerBookingJson.of(booking, practitioner))
    return {"practitioner_id": practitioner.id, **answer}


async def _practitioner(container: Container, practitioner_id: str) -> Practitioner:
    """Also a removed one: their past bookings are kept."""
    found = await container.service.directory.get(practitioner_id, include_removed=True)
    if found is None:
        raise UnknownPractitioner(practitioner_id)
    return found


_COLUMNS = ("id", "start", "practitioner", "service", "status", "client", "email", "phone", "paid")


def _print_table(listed: Sequence[tuple[Booking, Practitioner]]) -> None:
    if not listed:
        print("no bookings")
        return
    rows = [_COLUMNS, *(_row(booking, practitioner) for booking, practitioner in listed)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(_COLUMNS))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _row(booking: Booking, practitioner: Practitioner) -> tuple[str, ...]:
    return (
        booking.id,
        _local(booking.slot.start, practitioner),
        practitioner.id,
        booking.service_name,
        booking.status.value,
        booking.client.name,
        booking.client.email,
        booking.client.phone,
        str(booking.amount_paid) if booking.amount_paid else "-",
    )


def _local(instant: datetime, practitioner: Practitioner) -> str:
    return f"{instant.astimezone(zone(practitioner.timezone)):%Y-%m-%d %H:%M%z}"


async def _show(container: Container, args: argparse.Namespace) -> None:
    service = container.service
    booking = await service.booking(args.id)
    practitioner = await service.practitioner_of(booking)
    history = await service.store.history(booking.id)
    for line in _details(booking, practitioner):
        print(line)
    print("history:")
    for event in history:
        print(f"  {_event_line(event, practitioner)}")


def _details(booking: Booking, practitioner: Practitioner) -> list[str]:
    client = booking.client

    def money(value: object) -> str:
        return str(value) if value else "-"

    return [
        f"booking       {booking.id}",
        f"status        {booking.status.value}",
        f"practitioner  {practitioner.id} ({practitioner.name})",
        f"service       {booking.service_name} ({booking.service_id})",
        f"session       {_local(booking.slot.start, practitioner)} to "
        f"{_local(booking.slot.end, practitioner)} ({practitioner.timezone})",
        f"client        {client.name} <{client.email}> {client.phone} (time zone {booking.client_timezone})",
        f"price         {booking.price}",
        f"paid          {money(booking.amount_paid)}",
        f"refunded      {money(booking.amount_refunded)}",
        f"refund owed   {money(booking.refund_owed if booking.refund_id is None else None)}",
        f"created       {_local(booking.created_at, practitioner)}",
    ]


def _event_line(event: BookingEvent, practitioner: Practitioner) -> str:
    before = event.from_status.value if event.from_status else "-"
    change = f"{before} -> {event.to_status.value}"
    line = f"{_local(event.at, practitioner)}  {event.trigger.value}  {change}  {event.reason}"
    if event.moved_from and event.moved_to:
        old, new = (_local(span.start, practitioner) for span in (event.moved_from, event.moved_to))
        line += f"  (from {old} to {new})"
    return line


async def _cancel(container: Container, args: argparse.Namespace) -> None:
    service = container.service
    before = await service.booking(args.id)
    if before.status is BookingStatus.CANCELLED:
        print(f"{before.id} was cancelled already; nothing changed")
        return
    cancelled = await service.cancel_for_practitioner(args.id, args.reason, after_start=False)
    print(f"cancelled {cancelled.id}")
    owed = cancelled.refund_owed
    if owed is not None and cancelled.refund_id is None:
        print(
            f"{owed} is owed back; the payment provider refused it for now "
            "(`booking payments reconcile` retries)"
        )
    elif owed is not None:
        print(f"refunded {owed}")
    await _deliver_now(container)


async def _move(container: Container, args: argparse.Namespace) -> None:
    service = container.service
    moved = await service.reschedule_for_practitioner(args.id, args.start, args.reason)
    practitioner = await service.practitioner_of(moved)
    print(f"{moved.id} is at {_local(moved.slot.start, practitioner)} ({practitioner.timezone})")
    await _deliver_now(container)


async def _deliver_now(container: Container) -> None:
    """The client's e-mail (and webhooks, the Cal.com write-back) now, not at a server's next round."""
    assert container.outbox_worker is not None  # open_container always wires the outbox
    await container.outbox_worker.deliver_pending()
