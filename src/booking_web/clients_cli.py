"""`booking clients export/erase EMAIL`: a copy of everything held about a client (their bookings,
each one's history, the e-mails, webhooks and reminders sent of it), and its erasure (docs/privacy.md)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from booking_adapters.outgoing_webhooks import EVENT_TYPES, event_body
from booking_core import (
    BookingEvent,
    ClientBookingRecord,
    ClientRecord,
    DeliveryRecord,
    OutboxItem,
    Practitioner,
)
from booking_web.bookings_cli import Run, booking_json
from booking_web.bootstrap import Container

_WEBHOOK = "webhook:"  # the prefix of every webhook channel (outgoing_webhooks.channel_name)


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser], run: Run) -> None:
    """The `clients` commands; `run` opens a container and calls the parsed `work(container, args)`."""
    clients = commands.add_parser("clients", help="a client's data: a copy of it, or its erasure")
    actions = clients.add_subparsers(dest="action", required=True)
    export = actions.add_parser(
        "export", help="everything held about the client with this e-mail address (ignoring case), as JSON"
    )
    export.add_argument("email")
    export.add_argument("--output", type=Path, metavar="FILE", help="write it there (default: print it)")
    export.set_defaults(run=run, work=_export)
    erase = actions.add_parser(
        "erase",
        help="anonymise the client's name, e-mail and phone everywhere they are stored, keeping times "
        "and money records; refused while a booking of theirs is still to come",
    )
    erase.add_argument("email")
    erase.set_defaults(run=run, work=_erase)


async def _export(container: Container, args: argparse.Namespace) -> None:
    record = await container.client_data.export.export(args.email)
    practitioners = {}  # a removed practitioner's too: the bookings are theirs
    for practitioner_id in {r.booking.practitioner_id for r in record.bookings}:
        practitioners[practitioner_id] = await container.service.directory.get(
            practitioner_id, include_removed=True
        )
    text = json.dumps(client_record_json(record, practitioners), indent=2, ensure_ascii=False) + "\n"
    if args.output is None:
        sys.stdout.write(text)
        return
    args.output.write_text(text, encoding="utf-8")
    args.output.chmod(0o600)  # personal data
    print(f"{len(record.bookings)} bookings and {len(record.mail_copies)} e-mails written to {args.output}")


async def _erase(container: Container, args: argparse.Namespace) -> None:
    erased = await container.client_data.erasure.erase(args.email)
    print(f"erased: {erased.bookings} bookings anonymised, {erased.mail_copies} kept e-mails deleted")


def client_record_json(
    record: ClientRecord, practitioners: Mapping[str, Practitioner | None]
) -> dict[str, Any]:
    """The export's JSON: each booking as `booking bookings list --json` prints it, with its history,
    its deliveries (e-mail, webhooks, Cal.com), the webhook bodies of its events and its reminders
    (sent or failed), and the copies of e-mails kept."""
    return {
        "email": record.email,
        "exported_at": record.exported_at.isoformat(),
        "bookings": [
            _booking_record_json(r, practitioners[r.booking.practitioner_id]) for r in record.bookings
        ],
        "emails_kept": [attrs.asdict(copy) for copy in record.mail_copies],
    }


def _booking_record_json(record: ClientBookingRecord, practitioner: Practitioner | None) -> dict[str, Any]:
    booking = record.booking
    shown = booking_json(booking, practitioner) if practitioner else {"id": booking.id}
    return {
        **shown,
        "client_timezone": booking.client_timezone,
        "history": [_event_json(event) for event in record.history],
        "deliveries": [
            {
                "channel": delivery.channel,
                "event": delivery.event.trigger.value,
                "delivered_at": delivery.delivered_at.isoformat() if delivery.delivered_at else None,
                "failed_attempts": delivery.attempts,
                "last_error": delivery.last_error or None,
            }
            for delivery in record.deliveries
        ],
        "reminders": [
            {
                "channel": sent.reminder.channel,
                "session_start": sent.reminder.slot_start.isoformat(),  # a moved booking's earlier one too
                "minutes_before": int(sent.reminder.offset.total_seconds()) // 60,
                "sent_at": sent.sent_at.isoformat() if sent.sent_at else None,
                "failed_attempts": sent.attempts,
                "last_error": sent.last_error or None,
            }
            for sent in record.reminders
        ],
        # The body is built at delivery from the booking as it is then: this is each body as it
        # would be sent now (the bodies sent are not kept).
        "webhook_bodies": [
            json.loads(event_body(OutboxItem(seq, event, 0), EVENT_TYPES[event.trigger], booking))
            for seq, event in _webhook_events(record.deliveries)
        ],
    }


def _webhook_events(deliveries: Sequence[DeliveryRecord]) -> list[tuple[int, BookingEvent]]:
    """The events sent (or tried) to subscribers, once each, in order."""
    sent = {
        d.seq: d.event
        for d in deliveries
        if d.channel.startswith(_WEBHOOK) and d.event.trigger in EVENT_TYPES
    }
    return sorted(sent.items())


def _event_json(event: BookingEvent) -> dict[str, Any]:
    return {
        "at": event.at.isoformat(),
        "trigger": event.trigger.value,
        "from_status": event.from_status.value if event.from_status else None,
        "to_status": event.to_status.value,
        "reason": event.reason,
    }
