"""create_app(...) -> Starlette: the whole application on one screen."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from booking_adapters.mail import MailComposer, mail_transport
from booking_core import BookingError
from booking_web import (
    api,
    calendar_feed,
    calendar_feed_page,
    embed,
    heap,
    mailbox,
    manage_page,
    me_api,
    openapi,
    pages,
    practitioner_pages,
    probes,
    test_payments,
    time_off_api,
    time_off_pages,
    webhooks,
)
from booking_web.bootstrap import Container, open_container
from booking_web.checkout_checks import CheckoutChecks
from booking_web.csrf import CsrfGuard
from booking_web.errors import handle_booking_error, handle_http_exception
from booking_web.housekeeping import keep_house
from booking_web.metrics import Metrics
from booking_web.middleware.api_cors import ApiCorsMiddleware
from booking_web.middleware.body_limit import BodyLimitMiddleware
from booking_web.middleware.rate_limit import LimitedRoutes, RateLimitMiddleware
from booking_web.middleware.request_context import RequestContextMiddleware
from booking_web.middleware.security_headers import SecurityHeadersMiddleware
from booking_web.middleware.trusted_host import TrustedHostMiddleware
from booking_web.rate_limits import Limit, RateLimits
from booking_web.session_cookie import SessionCookie
from booking_web.settings import ConfigurationError, Settings
from booking_web.sign_in import SignInRequests

HERE = Path(__file__).parent
# A move claims a slot as a new booking does: it takes from the same bucket.
BOOKING_CREATION_PATHS = (
    r"/api/bookings",
    r"/book/[^/]+",
    r"/api/bookings/[^/]+/reschedule",
    manage_page.PATH_PATTERN,  # POST: the client's move from their page
)
# The pages a client's secret link opens; the move there counts as a booking attempt too.
BOOKING_LINK_PATHS = (manage_page.PATH_PATTERN, r"/booking/[^/]+/cancel")


Builder = Callable[[Settings, Metrics], AbstractAsyncContextManager[Container]]


def create_app(
    source: Settings | Container, *, build: Builder = open_container, settle_heap: bool = False
) -> Starlette:
    """The app over a built Container (its maker closes what it opened), or over `Settings`: then
    `build` opens the adapters in the lifespan (on the server's event loop; tests pass a builder
    over fakes) and closes them at shutdown. `settle_heap`: once started, freeze the heap out of
    the garbage collector's full passes (booking_web.heap; for a process that only serves)."""
    settings = source if isinstance(source, Settings) else source.settings
    metrics = source.metrics if isinstance(source, Container) else Metrics()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as opened:
            # Its Redis connections belong to this event loop: one per lifespan.
            app.state.rate_limits = _rate_limits(settings)
            opened.push_async_callback(app.state.rate_limits.close)
            if isinstance(source, Container):
                container = source
            else:
                container = await opened.enter_async_context(build(settings, metrics))
            _expose(app, container)
            async with anyio.create_task_group() as background:
                background.start_soon(
                    keep_house,
                    container.service,
                    container.client_data,
                    settings.housekeeping_seconds,
                    settings.client_data_retention,
                )
                if container.change_feed is not None:
                    background.start_soon(container.change_feed.run)
                worker = container.outbox_worker
                if worker is not None:
                    await worker.register_channels()  # before the first request can change a booking
                    background.start_soon(worker.run, settings.outbox_seconds)
                if settle_heap:
                    heap.settle()
                yield
                background.cancel_scope.cancel()

    app = Starlette(
        routes=[
            *api.routes,
            *me_api.routes,
            *time_off_api.routes,
            *calendar_feed.routes,
            *webhooks.routes,
            *probes.routes,
            openapi.route,
            *pages.routes,
            *manage_page.routes,
            *embed.routes,
            *practitioner_pages.routes,
            *time_off_pages.routes,
            *calendar_feed_page.routes,
            *(test_payments.routes if settings.development else []),
            *(mailbox.routes if settings.serves_mailbox_page else []),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        middleware=[
            # Outermost, so that even the 500 answered by the request context carries the headers.
            Middleware(
                SecurityHeadersMiddleware,
                https=settings.https,
                frame_ancestors=settings.allowed_origins,
                framable=embed.FRAMABLE_PATHS,
            ),
            Middleware(RequestContextMiddleware, metrics=metrics, access_log=settings.access_log),
            Middleware(TrustedHostMiddleware, hosts=settings.allowed_hosts),
            # Outside the limits, so that a browser on another site can read their refusals too.
            Middleware(ApiCorsMiddleware, origins=settings.allowed_origins),
            Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes),
            Middleware(
                RateLimitMiddleware,
                routes=(
                    LimitedRoutes(
                        Limit("booking", settings.booking_rate_limit_per_minute, 60), BOOKING_CREATION_PATHS
                    ),
                    # The feed's address is its only credential: strangers may not try many.
                    LimitedRoutes(
                        Limit("calendar", settings.calendar_feed_rate_limit_per_minute, 60),
                        (calendar_feed.PATH_PATTERN,),
                        frozenset({"GET"}),
                        "calendar requests",
                        pages=False,  # read by calendar apps: a refusal stays JSON, whatever the Accept
                    ),
                    # A client's secret link opens these: strangers may not try many tokens.
                    LimitedRoutes(
                        Limit("booking_link", settings.booking_link_rate_limit_per_minute, 60),
                        BOOKING_LINK_PATHS,
                        frozenset({"GET", "POST"}),
                        "requests for booking pages",
                    ),
                ),
            ),
        ],
        exception_handlers={BookingError: handle_booking_error, HTTPException: handle_http_exception},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.templates = Jinja2Templates(directory=HERE / "templates")
    app.state.mailbox_dir = settings.mailbox_dir
    app.state.rate_limits = _rate_limits(settings)  # replaced by the lifespan's when it runs
    if isinstance(source, Container):
        _expose(app, source)  # usable without running the lifespan (e.g. a TestClient outside `with`)
    return app


def _expose(app: Starlette, container: Container) -> None:
    app.state.container = container
    app.state.booking = container.service
    app.state.availability_answers = container.availability_answers
    app.state.checkout_checks = CheckoutChecks(container.service)
    settings = container.settings
    app.state.csrf = CsrfGuard(container.secret, public_base_url=settings.public_base_url)
    app.state.session_cookie = SessionCookie(container.secret, https=settings.https)
    app.state.sign_in_requests = SignInRequests(
        container.access,
        mail_transport(settings.smtp_url, settings.mailbox_dir),
        MailComposer(settings.sender),
        settings.public_base_url,
        app.state.rate_limits,
    )


def _rate_limits(settings: Settings) -> RateLimits:
    return RateLimits(settings.redis_url, settings.redis_key_prefix)


def app_from_environment() -> Starlette:
    """The uvicorn factory for `booking serve` (each worker calls it)."""
    settings = Settings.from_env(os.environ)
    if settings.serving_problems():  # `booking serve` said so already; another launcher may not have
        raise ConfigurationError(settings.serving_problems())
    return create_app(settings, settle_heap=True)
