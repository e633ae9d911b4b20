"""GET /calendar/{token}.ics: a practitioner's calendar feed, for calendar apps to subscribe to.

The address is the only credential (calendar apps send no other), so a wrong token is a plain 404
and the route is rate-limited per address (app.py). The access log records the route template,
never the token. ETag (a hash of the body, which depends only on the data) and Last-Modified let
subscribers poll with a 304 in answer when nothing changed.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from booking_adapters.mail.feed import feed_calendar
from booking_core import CalendarFeeds
from booking_web.settings import Settings

PATH = "/calendar/{token}.ics"
PATH_PATTERN = r"/calendar/[^/]+\.ics"  # for the rate limit, which sees paths before routing
MEDIA_TYPE = "text/calendar; charset=utf-8"


def feed_url(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}{PATH.format(token=token)}"


def webcal_url(url: str) -> str:
    """The same address under `webcal://`, which opens the system's calendar app to subscribe (it
    fetches over http(s) as usual)."""
    _, _, rest = url.partition("://")
    return f"webcal://{rest}"


def feeds_of(request: Request) -> CalendarFeeds:
    feeds: CalendarFeeds = request.app.state.container.calendar_feeds
    return feeds


async def calendar_feed(request: Request) -> Response:
    feeds = feeds_of(request)
    settings: Settings = request.app.state.settings
    practitioner = await feeds.practitioner_of(request.path_params["token"])
    content = await feeds.content(practitioner)
    body = feed_calendar(content, public_base_url=settings.public_base_url)
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    changed = _last_modified(content.changed_at, feeds.clock.now())
    headers["Last-Modified"] = format_datetime(changed, usegmt=True)
    if _not_modified(request.headers, etag, changed):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=MEDIA_TYPE, headers=headers)


def _last_modified(changed_at: datetime | None, now: datetime) -> datetime:
    """The latest change, but not before the current hour began: a removal (time off deleted, a
    session leaving the window) leaves no date behind, so a subscriber that only sends
    If-Modified-Since gets the whole feed again at least hourly. (If-None-Match is exact.)"""
    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if changed_at is None:
        return hour
    return max(changed_at.astimezone(UTC).replace(microsecond=0), hour)


def _not_modified(headers: Headers, etag: str, changed: datetime) -> bool:
    """RFC 9110 13.2.2: If-None-Match decides when sent; else If-Modified-Since."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or etag in tags
    since = headers.get("if-modified-since")
    if since is None:
        return False
    try:
        asked = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False  # a date we cannot read: answer in full
    return asked.tzinfo is not None and changed <= asked


routes = [Route(PATH, calendar_feed, methods=["GET"])]
