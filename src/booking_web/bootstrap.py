"""The composition root: Settings -> adapters -> BookingService. Tests call `assemble` with fakes."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import Protocol

from attrs import field, frozen
from starlette.requests import Request

from booking_adapters import sql
from booking_adapters.calcom import open_calcom
from booking_adapters.directory_cache import CachedDirectory
from booking_adapters.mail import MailboxCopies
from booking_adapters.memory import MemoryBookingStore, MemoryCalendarFeedKeys, MemoryCredentialStore
from booking_adapters.outgoing_webhooks import webhook_http_client
from booking_adapters.sql.directory import CACHE_SECONDS
from booking_adapters.stripe import LocalTestGateway, StripeGateway
from booking_adapters.system import SecureIds, SystemClock
from booking_core import (
    AvailabilitySource,
    BookingService,
    BookingStore,
    CalendarFeedKeys,
    CalendarFeeds,
    Channel,
    ClientData,
    ClientDataStore,
    Clock,
    CredentialStore,
    HoldLimits,
    IdGenerator,
    Outbox,
    OutboxRelay,
    PaymentGateway,
    PractitionerAccess,
    PractitionerDirectory,
    ReminderLedger,
    ReminderRelay,
    ScheduleSource,
)
from booking_web.availability_answers import AvailabilityAnswers, ComputedAvailabilityAnswers
from booking_web.availability_cache import UNHEARD_SECONDS, AvailabilityCache
from booking_web.busy_cache import KeptBusySpans
from booking_web.change_tickets import ChangeTickets
from booking_web.channels import outbox_channels, reminder_sender
from booking_web.demo import DEMO_PRACTITIONERS
from booking_web.local_secrets import persistent_secret, private_directory
from booking_web.metrics import CountingChangeListener, Metrics
from booking_web.outbox_worker import OutboxWorker
from booking_web.settings import ConfigurationError, Settings

__all__ = [
    "Container",
    "assemble",
    "check_startup",
    "create_embedded_database",
    "open_container",
    "persistent_secret",
    "prepare",
    "started",
]

log = logging.getLogger(__name__)

# With PostgreSQL, every process hears of practitioner changes (sql.ChangeFeed) and
# forgets them at once; the time only bounds staleness while that feed is down.
SHARED_PRACTITIONER_CACHE_SECONDS = 60.0

# How often a worker looks for reminders due (a reminder goes at most this late).
REMINDER_LOOK_INTERVAL = timedelta(seconds=10)

ChannelFactory = Callable[[BookingService], Sequence[Channel]]  # channels may need the service
# Builds the change feed over the availability cache it is to void (the cache trusts the feed).
ChangeFeedFactory = Callable[[AvailabilityCache], sql.ChangeFeed]


class DatabaseHandle(Protocol):
    """What the web service needs of a database beyond the ports: health and shutdown."""

    async def ping(self) -> None: ...

    async def schema_is_current(self) -> bool: ...

    async def close(self) -> None: ...


@frozen
class Container:
    """Everything one process serves with, built once; whoever opened its adapters closes them
    (`open_container`), so it holds nothing to close."""

    settings: Settings
    service: BookingService
    metrics: Metrics
    availability_answers: AvailabilityAnswers  # what the availability endpoint answers with
    access: PractitionerAccess  # practitioners' sign-in links, sessions and API tokens
    # Signs the pages' CSRF tokens; the same in every worker (a form may post to another).
    secret: str = field(repr=False)
    database: DatabaseHandle | None = None
    outbox_worker: OutboxWorker | None = None  # None: nothing is delivered (tests of the web alone)
    change_feed: sql.ChangeFeed | None = None  # other processes' changes (PostgreSQL)
    calendar_feeds: CalendarFeeds = field(kw_only=True)
    client_data: ClientData = field(kw_only=True)  # export, erasure, retention of clients' details

    async def readiness_problems(self) -> list[str]:
        if self.database is None:
            return []
        try:
            await self.database.ping()
        except Exception as error:  # any failure means not ready; the probe says which
            return [f"database unreachable: {type(error).__name__}"]
        if not await self.database.schema_is_current():
            return ["database schema is behind: run `booking db upgrade`"]
        return []


def service_of(request: Request) -> BookingService:
    """The service a request is served by (the lifespan put it on the app's state)."""
    service: BookingService = request.app.state.booking
    return service


def assemble(
    settings: Settings,
    *,
    directory: PractitionerDirectory,
    store: BookingStore,
    payments: PaymentGateway,
    ids: IdGenerator,
    availability: AvailabilitySource | None = None,
    clock: Clock | None = None,
    database: DatabaseHandle | None = None,
    metrics: Metrics | None = None,
    secret: str | None = None,
    outbox: Outbox | None = None,
    channels: ChannelFactory = lambda service: (),
    change_feed: ChangeFeedFactory | None = None,
    credentials: CredentialStore | None = None,
    feed_keys: CalendarFeedKeys | None = None,
    reminders: ReminderLedger | None = None,
    client_data: ClientDataStore | None = None,
) -> Container:
    """The wiring every container shares, whatever the adapters are. Without `credentials` and
    `feed_keys`, practitioners' sign-ins and calendar feed keys live in this process's memory (tests
    of the web over fakes); without `client_data`, the store must be the memory store, which holds
    clients' details itself. With an `outbox`, one relay over every channel, woken after each booking
    change; with `reminders` too, it sends the reminders due by the client's e-mail channel. With a
    `change_feed`, availability answers live up to AVAILABILITY_CACHE_SECONDS and are not cached
    while the feed is down; without one, no longer than UNHEARD_SECONDS."""
    metrics = metrics or Metrics()
    clock = clock or SystemClock()
    changed = asyncio.Event()
    feed: sql.ChangeFeed | None = None  # built below, over the cache (the cache over the service)

    def booking_changed(practitioner_id: str) -> None:
        changed.set()
        cache.changed(practitioner_id)

    cache_seconds = settings.availability_cache_seconds
    if change_feed is None:
        cache_seconds = min(cache_seconds, UNHEARD_SECONDS)

    def cache_clock() -> float:
        return clock.now().timestamp()  # the service's time: slots and holds expire in it

    def trusted() -> bool:
        # Without a feed nothing could be missed; with one, while it is down nothing is trusted.
        return change_feed is None or (feed is not None and feed.live)

    tickets = ChangeTickets()  # the answers and the busy spans forget what changes alike
    busy_spans = KeptBusySpans(store, cache_seconds, tickets=tickets, clock=cache_clock, trusted=trusted)
    service = BookingService(
        directory=directory,
        store=store,
        busy_spans=busy_spans,
        availability=availability or ScheduleSource(),
        payments=payments,
        notifier=CountingChangeListener(metrics, booking_changed),
        clock=clock,
        ids=ids,
        hold_limits=HoldLimits(
            settings.hold_limit_per_client,
            settings.hold_limit_practitioner_share,
            free_per_client=settings.free_booking_limit_per_client,
        ),
    )
    cache = AvailabilityCache(
        ComputedAvailabilityAnswers(service),
        cache_seconds,
        clock=cache_clock,
        trusted=trusted,
        counted=lambda hit: metrics.count_availability(cached=hit),
        tickets=tickets,
    )
    feed = change_feed(cache) if change_feed is not None else None
    worker = None
    if outbox is not None:
        listed = list(channels(service))
        sender = reminder_sender(listed)
        due = None
        if reminders is not None and sender is not None:
            due = ReminderRelay(reminders, directory, sender, clock, every=REMINDER_LOOK_INTERVAL)
        worker = OutboxWorker(OutboxRelay(outbox, listed, clock, reminders=due), outbox, metrics, changed)
    access = PractitionerAccess(directory, credentials or MemoryCredentialStore(), clock, ids)
    return Container(
        settings,
        service,
        metrics,
        cache,
        access,
        secret or secrets.token_urlsafe(32),
        database,
        worker,
        feed,
        calendar_feeds=CalendarFeeds(directory, store, feed_keys or MemoryCalendarFeedKeys(), clock, ids),
        client_data=ClientData.over(
            store, client_data or _held_by(store), MailboxCopies(settings.mailbox_dir), clock
        ),
    )


def _held_by(store: BookingStore) -> ClientDataStore:
    """The memory store keeps clients' details in its bookings and answers for them itself."""
    if not isinstance(store, MemoryBookingStore):
        raise TypeError("assemble needs `client_data` for a store other than the memory store")
    return store


@asynccontextmanager
async def open_container(
    settings: Settings, metrics: Metrics | None = None, *, database: sql.Database | None = None
) -> AsyncIterator[Container]:
    """The production wiring: the database named by the settings (or the one given, left open),
    the configured payment provider, Cal.com (one HTTP client and one availability cache per
    process), e-mail and webhooks. Whatever it opened closes on leaving, or as soon as a later
    step fails."""
    async with AsyncExitStack() as opened:
        if database is None:
            database = await _open_database(settings)
            opened.push_async_callback(database.close)
        secret = _booking_secret(settings)
        calcom = await open_calcom(settings.calcom)
        opened.push_async_callback(calcom.aclose)
        webhook_http = webhook_http_client()
        opened.push_async_callback(webhook_http.aclose)
        clock = SystemClock()
        directory = database.directory
        yield assemble(
            settings,
            directory=directory,
            store=database.store,
            availability=calcom.source(ScheduleSource()),
            payments=_payment_gateway(settings),
            ids=SecureIds(secret.encode()),
            clock=clock,
            database=database,
            metrics=metrics,
            secret=secret,
            outbox=database.store,
            credentials=database.credentials,
            feed_keys=database.calendar_feeds,
            reminders=database.reminders,
            client_data=database.client_data,
            channels=lambda service: outbox_channels(settings, service, calcom, webhook_http, clock),
            change_feed=(
                (lambda cache: _change_feed(settings.database_location, cache, directory))
                if settings.database_is_shared
                else None
            ),
        )


async def _open_database(settings: Settings) -> sql.Database:
    shared = settings.database_is_shared
    return await sql.open_database(
        settings.database_location,
        practitioner_cache_seconds=SHARED_PRACTITIONER_CACHE_SECONDS if shared else CACHE_SECONDS,
    )


def _change_feed(url: str, cache: AvailabilityCache, directory: CachedDirectory) -> sql.ChangeFeed:
    """Other processes' changes void what this one cached, so answers may live as long as the
    settings allow; while the feed is down, availability is not cached at all (practitioners still
    are, for up to SHARED_PRACTITIONER_CACHE_SECONDS)."""

    def practitioner_changed(practitioner_id: str) -> None:
        directory.forget(practitioner_id)
        cache.changed(practitioner_id)

    def gap() -> None:
        cache.clear()
        directory.forget()

    return sql.ChangeFeed(
        sql.listening_conninfo(url),
        on_bookings=cache.changed,
        on_practitioner=practitioner_changed,
        on_gap=gap,
    )


def _payment_gateway(settings: Settings) -> PaymentGateway:
    if settings.stripe_secret_key is not None:
        assert settings.stripe_webhook_secret is not None  # Settings.problems() requires it
        return StripeGateway(
            settings.stripe_secret_key,
            settings.stripe_webhook_secret,
            settings.public_base_url,
            api_base=settings.stripe_api_base,
            timeout_seconds=settings.stripe_timeout_seconds,
        )
    webhook_secret = settings.stripe_webhook_secret or persistent_secret(
        settings.data_dir / "webhook_secret", prefix="whsec_local_"
    )
    return LocalTestGateway(webhook_secret, settings.public_base_url)


def _booking_secret(settings: Settings) -> str:
    return settings.booking_secret_key or persistent_secret(settings.data_dir / "secret_key")


async def check_startup(env: Mapping[str, str], *, serving: bool = False) -> Settings:
    """Settings from `env`, ready to use, or one ConfigurationError listing every problem (the
    variables', the database's and, `serving`, those that stop `booking serve`). Run once before
    serving, not per worker."""
    async with started(env, serving=serving) as container:
        return container.settings


@asynccontextmanager
async def started(env: Mapping[str, str], *, serving: bool = False) -> AsyncIterator[Container]:
    """What every `booking` command runs on: the settings checked as `check_startup` says, then one
    container over the one database it checked, its outbox channels registered."""
    settings, problems = Settings.read(env)
    if serving:
        problems += settings.serving_problems()
    async with AsyncExitStack() as opened:
        database = None
        if settings.database_url_problem() is None:
            try:
                database = await opened.enter_async_context(prepared_database(settings))
            except ConfigurationError as error:
                problems += error.problems
        if problems:
            raise ConfigurationError(problems)
        if settings.smtp_url is None and not settings.development:
            log.warning("SMTP_URL is not set: e-mails are written to %s, not sent", settings.mailbox_dir)
        container = await opened.enter_async_context(open_container(settings, database=database))
        # Channels new to this deployment start here, before any process serves (see OutboxWorker).
        assert container.outbox_worker is not None  # open_container always has an outbox
        await container.outbox_worker.register_channels()
        yield container


def create_embedded_database(settings: Settings) -> None:
    """The data directory (0700) and an empty SQLite file (0600) if there is none yet: they hold the
    secrets and clients' contact details. SQLite gives its -wal and -shm files the database's mode."""
    private_directory(settings.data_dir)
    os.close(os.open(settings.sqlite_path, os.O_WRONLY | os.O_CREAT, 0o600))  # an existing one stays


async def prepare(settings: Settings) -> None:
    """`prepared_database`, closed again (for a process that serves later, e.g. in tests)."""
    async with prepared_database(settings):
        pass


@asynccontextmanager
async def prepared_database(settings: Settings) -> AsyncIterator[sql.Database]:
    """The embedded default creates and migrates its SQLite file, and development mode seeds an empty
    one; an external database must be reachable and current (ConfigurationError says otherwise).
    Yields the database, open, and closes it on leaving."""
    if settings.embedded:
        create_embedded_database(settings)
        await asyncio.to_thread(sql.upgrade, settings.database_location)  # Alembic runs its own loop
    hide = settings.without_database_password  # drivers' messages may quote the URL
    try:
        database = await _open_database(settings)
    except Exception as error:  # e.g. a driver that rejects the URL
        raise ConfigurationError([hide(f"DATABASE_URL cannot be used: {error}")]) from None
    try:
        try:
            await database.ping()
            await database.require_current_schema()
        except sql.SchemaBehind as error:
            raise ConfigurationError([hide(str(error))]) from None
        except Exception as error:  # the operator needs the driver's reason, whatever it raised
            raise ConfigurationError([hide(f"DATABASE_URL is unreachable: {error}")]) from None
        if settings.development and not await database.directory.list():
            # Only into an empty database, and never a demo practitioner removed once: a practitioner
            # removed (or any imported) stays that way.
            for practitioner in DEMO_PRACTITIONERS:
                if await database.directory.get(practitioner.id, include_removed=True) is None:
                    await database.directory.upsert(practitioner)
        try:
            settings.calcom.check_for(await database.directory.list())
        except ValueError as error:
            raise ConfigurationError([f"{error}."]) from None
        _booking_secret(settings)
        yield database
    finally:
        await database.close()
