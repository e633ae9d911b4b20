"""The `booking` command: serve, db upgrade, practitioners import/list/remove/token/revoke-tokens/feed,
payments reconcile, holds expire, outbox deliver/list, reminders list, calcom sync, bookings
list/show/cancel/move (bookings_cli.py)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import uvicorn

from booking_adapters import sql
from booking_adapters.calcom import CHANNEL_NAME as CALCOM_CHANNEL
from booking_core import (
    ClientBookingsAhead,
    DeliveryFailure,
    IllegalTransition,
    InvalidInput,
    NotFound,
    OutboxRelay,
    Practitioner,
    PractitionerDirectory,
    PractitionerHasLiveBookings,
    RelayReport,
    SlotUnavailable,
)
from booking_web import bookings_cli, clients_cli
from booking_web.bootstrap import Container, check_startup, create_embedded_database, started
from booking_web.calendar_feed import feed_url
from booking_web.logs import chosen_format, log_config
from booking_web.metrics import MULTIPROC_ENV
from booking_web.outbox_worker import OutboxWorker
from booking_web.practitioner_import import PractitionerFileError, read_practitioners
from booking_web.settings import ConfigurationError, Settings

APP_FACTORY = "booking_web.app:app_from_environment"


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        args.run(args)
    except (ConfigurationError, PractitionerFileError) as error:
        print(error, file=sys.stderr)
        raise SystemExit(2) from None
    # refused: nothing changed (SlotUnavailable: `bookings move` to a taken time)
    except (
        NotFound,
        PractitionerHasLiveBookings,
        ClientBookingsAhead,
        IllegalTransition,
        SlotUnavailable,
    ) as error:
        print(error, file=sys.stderr)
        raise SystemExit(1) from None
    except InvalidInput as error:  # e.g. `bookings cancel --reason` too long: name what is wrong
        print("; ".join(f"{name}: {problem}" for name, problem in error.fields.items()), file=sys.stderr)
        raise SystemExit(1) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="booking", description="The practitioner booking service.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the booking site and API")
    default = Settings()
    serve.add_argument("--host", help=f"address to listen on (default: $HOST or {default.host})")
    serve.add_argument("--port", type=int, help=f"port (default: $PORT or {default.port})")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    serve.set_defaults(run=_serve)

    db = commands.add_parser("db", help="database schema").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="apply pending migrations").set_defaults(run=_db_upgrade)

    practitioners = commands.add_parser("practitioners", help="who can be booked")
    actions = practitioners.add_subparsers(dest="action", required=True)
    import_ = actions.add_parser("import", help="create or update practitioners from a TOML file")
    import_.add_argument("file", type=Path)
    import_.add_argument(
        "--prune",
        action="store_true",
        help="then remove the practitioners the file does not name (those with live bookings stay)",
    )
    import_.set_defaults(run=_import_practitioners)
    actions.add_parser("list", help="list practitioners").set_defaults(run=_list_practitioners)
    remove = actions.add_parser(
        "remove", help="remove a practitioner without live bookings (their past bookings are kept)"
    )
    remove.add_argument("id")
    remove.set_defaults(run=_remove_practitioner)
    token = actions.add_parser(
        "token", help="print a new API token for the practitioner, on the last line (others stay valid)"
    )
    token.add_argument("id")
    token.set_defaults(run=_issue_api_token)
    revoke = actions.add_parser("revoke-tokens", help="revoke every API token of the practitioner")
    revoke.add_argument("id")
    revoke.set_defaults(run=_revoke_api_tokens)
    feed = actions.add_parser(
        "feed", help="print the address of the practitioner's calendar feed (the same on every ask)"
    )
    feed.add_argument("id")
    feed.add_argument("--rotate", action="store_true", help="a new address; the old one stops working")
    feed.set_defaults(run=_calendar_feed_address)

    payments = commands.add_parser("payments", help="payments").add_subparsers(dest="action", required=True)
    payments.add_parser("reconcile", help="settle lapsed holds and owed refunds").set_defaults(run=_reconcile)
    holds = commands.add_parser("holds", help="slot holds").add_subparsers(dest="action", required=True)
    holds.add_parser("expire", help="release holds whose time ran out").set_defaults(run=_expire_holds)

    outbox = commands.add_parser("outbox", help="e-mails, webhooks and Cal.com write-backs waiting to go out")
    outbox_actions = outbox.add_subparsers(dest="action", required=True)
    outbox_actions.add_parser("deliver", help="deliver what is due on every channel").set_defaults(
        run=_deliver_outbox
    )
    listing = outbox_actions.add_parser("list", help="list deliveries")
    listing.add_argument(
        "--failed", action="store_true", required=True, help="those whose last attempt failed"
    )
    listing.add_argument("--channel", help="only this channel (calcom, email:client, webhook:...)")
    listing.set_defaults(run=_list_failed_deliveries)
    reminders = commands.add_parser("reminders", help="reminders before sessions")
    reminders_actions = reminders.add_subparsers(dest="action", required=True)
    reminders_actions.add_parser(
        "list", help="one line per reminder not sent yet: booking id, due time (ISO 8601), channel"
    ).set_defaults(run=_list_reminders)
    calcom = commands.add_parser("calcom", help="Cal.com").add_subparsers(dest="action", required=True)
    calcom.add_parser("sync", help="write due bookings back to Cal.com now").set_defaults(run=_calcom_sync)
    bookings_cli.add_commands(commands, _run_work)
    clients_cli.add_commands(commands, _run_work)
    return parser


def _run_work(args: argparse.Namespace) -> None:
    """A command whose parser named its `work(container, args)` (bookings_cli)."""
    _with_container(lambda container: args.work(container, args))


def _serve(args: argparse.Namespace) -> None:
    # Workers read their settings from the environment, so the command line goes there too.
    if args.host:
        os.environ["HOST"] = args.host
    if args.port:
        os.environ["PORT"] = str(args.port)
    # Migrations and seeding once, not per worker.
    settings = asyncio.run(check_startup(os.environ, serving=True))
    if args.workers > 1 and not settings.uses_stripe:
        raise ConfigurationError(
            ["Local test payments live in one process: use --workers 1, or set STRIPE_SECRET_KEY."]
        )
    if args.workers > 1 and not os.environ.get(MULTIPROC_ENV):
        os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="booking-metrics-")
    print(f"Booking service on {settings.public_base_url}  (listening on {settings.host}:{settings.port})")
    print(f"Running in {settings.mode}", flush=True)
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=args.workers,
        loop="uvloop",  # the asyncio loop loses TCP_NODELAY on a shared socket: ~44 ms per request
        http="httptools",
        log_config=log_config(settings.log_level, chosen_format(settings.log_format, sys.stderr)),
        access_log=False,  # the app logs requests itself, without query strings
        # X-Forwarded-For only from the proxies named: anyone else would pick their rate-limit bucket.
        proxy_headers=settings.forwarded_allow_ips is not None,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        server_header=False,
    )


def _db_upgrade(args: argparse.Namespace) -> None:
    settings = Settings.from_env(os.environ)
    if settings.embedded:
        create_embedded_database(settings)
    sql.upgrade(settings.database_location)
    print("The database schema is up to date.")


def _import_practitioners(args: argparse.Namespace) -> None:
    practitioners = read_practitioners(args.file)

    kept: list[str] = []

    async def run(container: Container) -> None:
        directory = container.service.directory
        for practitioner in practitioners:
            await directory.upsert(practitioner)
            print(f"imported {practitioner.id}: {practitioner.name}")
        if args.prune:
            named = {p.id for p in practitioners}
            for other in await directory.list():
                if other.id not in named:
                    kept.extend(await _prune(directory, other.id, container.service.clock.now()))

    _with_container(run)
    if kept:
        print(f"kept {len(kept)} practitioner(s) the file does not name: {', '.join(kept)}", file=sys.stderr)
        raise SystemExit(1)


async def _prune(directory: PractitionerDirectory, practitioner_id: str, now: datetime) -> list[str]:
    """Remove one practitioner the file does not name; the id in a list if they had to stay."""
    try:
        await directory.remove(practitioner_id, now)
    except PractitionerHasLiveBookings as refused:
        print(f"kept {practitioner_id}: {refused}")
        return [practitioner_id]
    print(f"removed {practitioner_id}: not in the file (their past bookings are kept)")
    return []


def _remove_practitioner(args: argparse.Namespace) -> None:
    async def run(container: Container) -> None:
        await container.service.directory.remove(args.id, container.service.clock.now())
        print(f"removed {args.id}; their past bookings are kept")

    _with_container(run)


def _calendar_feed_address(args: argparse.Namespace) -> None:
    async def run(container: Container) -> None:
        feeds = container.calendar_feeds
        token = await (feeds.rotate(args.id) if args.rotate else feeds.token(args.id))
        print(feed_url(container.settings, token))

    _with_container(run)


def _issue_api_token(args: argparse.Namespace) -> None:
    async def run(container: Container) -> None:
        token = await container.access.issue_api_token(args.id)
        print(f"A new API token for {args.id}; send it as 'Authorization: Bearer <token>'.")
        print("It is shown only now: keep it secret ('booking practitioners revoke-tokens' ends it).")
        print(token)

    _with_container(run)


def _revoke_api_tokens(args: argparse.Namespace) -> None:
    async def run(container: Container) -> None:
        count = await container.access.revoke_api_tokens(args.id)
        print(f"revoked {count} API token{'' if count == 1 else 's'} of {args.id}")

    _with_container(run)


def _list_practitioners(args: argparse.Namespace) -> None:
    async def run(container: Container) -> None:
        for p in await container.service.directory.list():
            print(f"{p.id}\t{p.name}\t{p.timezone}\t{_services_in_words(p)}")

    _with_container(run)


def _services_in_words(practitioner: Practitioner) -> str:
    """`50 min<TAB>90.00 EUR` for the one service of the offer (as before services existed), else
    `intro 15 min 0.00 EUR<TAB>session 50 min 90.00 EUR`."""
    if not practitioner.services:
        offer = practitioner.offer
        return f"{offer.session_length // timedelta(minutes=1)} min\t{offer.price}"
    return "\t".join(
        f"{service.id} {service.length // timedelta(minutes=1)} min {service.price}"
        for service in practitioner.services
    )


def _reconcile(args: argparse.Namespace) -> None:
    async def run(container: Container) -> None:
        report = await container.service.reconcile()
        print(
            f"lapsed holds checked: {report.holds_checked}, confirmed: {report.confirmed}, "
            f"released: {report.released}, released bookings asked about: {report.payments_checked}, "
            f"refunds issued: {report.refunds_issued}"
        )

    _with_container(run)


def _expire_holds(args: argparse.Namespace) -> None:
    async def run(container: Container) -> None:
        report = await container.service.release_lapsed_holds()
        print(f"lapsed holds checked: {report.holds_checked}, released: {report.released}")

    _with_container(run)


def _deliver_outbox(args: argparse.Namespace) -> None:
    async def run(container: Container) -> None:
        report = await _outbox_worker(container).deliver_pending()
        print(_report_line(report))

    _with_container(run)


def _calcom_sync(args: argparse.Namespace) -> None:
    async def run(container: Container) -> None:
        worker = _outbox_worker(container)
        calcom = [channel for channel in worker.relay.channels if channel.name == CALCOM_CHANNEL]
        only_calcom = OutboxRelay(worker.outbox, calcom, worker.relay.clock, worker.relay.retry)
        report = await OutboxWorker(only_calcom, worker.outbox, container.metrics).deliver_pending()
        print(_report_line(report))
        _print_failures(await worker.outbox.failures(CALCOM_CHANNEL))

    _with_container(run)


def _list_failed_deliveries(args: argparse.Namespace) -> None:
    async def run(container: Container) -> None:
        _print_failures(await _outbox_worker(container).outbox.failures(args.channel))

    _with_container(run)


def _list_reminders(args: argparse.Namespace) -> None:
    async def run(container: Container) -> None:
        relay = _outbox_worker(container).relay.reminders
        planned = await relay.planned() if relay is not None else []
        for reminder in planned:
            print(f"{reminder.booking_id}\t{reminder.due_at.isoformat()}\t{reminder.channel}")
        if not planned:
            print("no reminders planned", file=sys.stderr)

    _with_container(run)


def _outbox_worker(container: Container) -> OutboxWorker:
    assert container.outbox_worker is not None  # open_container always wires the outbox
    return container.outbox_worker


def _report_line(report: RelayReport) -> str:
    return (
        f"delivered: {report.delivered}, failed (retried later): {report.failed}, gave up: {report.gave_up}"
    )


def _print_failures(failures: Sequence[DeliveryFailure]) -> None:
    if not failures:
        print("no failed deliveries")
        return
    print("channel\tseq\tbooking\tattempts\tlast error\tnext attempt")
    for f in failures:
        retry = f.next_attempt_at.isoformat() if f.next_attempt_at else "given up"
        print(f"{f.channel}\t{f.seq}\t{f.booking_id}\t{f.attempts}\t{f.last_error}\t{retry}")


def _with_container(work: Callable[[Container], Awaitable[None]]) -> None:
    async def run() -> None:
        async with started(os.environ) as container:  # the database opened once per command
            await work(container)

    asyncio.run(run())
