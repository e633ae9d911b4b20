"""The practitioner's time-off page: what they have blocked, a form for whole days and one for a
range of local times, and a button to remove each; every form CSRF-protected, each change answered
with a redirect back to the page (a reload does not send it again)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from booking_core import InvalidInput, Practitioner, TimeOffConflicts, zone
from booking_web.bootstrap import service_of
from booking_web.csrf import FIELD as CSRF_FIELD
from booking_web.current_practitioner import session_practitioner
from booking_web.page_rendering import csrf_guard, form_text, render
from booking_web.time_off_input import time_off_span

PAGE = "/practitioner/time-off"
FORM_FIELDS = ("kind", "start", "end", "note")


async def _page(
    request: Request,
    practitioner: Practitioner,
    *,
    form: dict[str, str] | None = None,
    problems: dict[str, str] | None = None,
    message: str = "",
    status: int = 200,
) -> Response:
    token, cookie = csrf_guard(request).form_token(request)
    upcoming = await service_of(request).upcoming_time_off(practitioner.id)
    local = zone(practitioner.timezone)
    context = {
        "practitioner": practitioner,
        "csrf_token": token,
        "time_off": [
            (block, block.span.start.astimezone(local), block.span.end.astimezone(local))
            for block in upcoming
        ],
        "form": form or {"kind": "", "start": "", "end": "", "note": ""},
        "problems": problems or {},
        "message": message,
    }
    return render(request, "practitioner_time_off.html", context, status, cookie)


async def time_off_page(request: Request) -> Response:
    return await _page(request, await session_practitioner(request))


async def add_time_off(request: Request) -> Response:
    practitioner = await session_practitioner(request)
    posted = await request.form()
    csrf_guard(request).verify(request, form_text(posted, CSRF_FIELD))
    form = {name: form_text(posted, name) for name in FORM_FIELDS}
    try:
        span = time_off_span(form["start"], form["end"], practitioner.timezone, wall_times=True)
        await service_of(request).add_time_off(practitioner.id, span, form["note"])
    except InvalidInput as invalid:
        return await _page(request, practitioner, form=form, problems=invalid.fields, status=422)
    except TimeOffConflicts as conflicts:
        return await _page(request, practitioner, form=form, message=conflicts.message, status=409)
    return RedirectResponse(PAGE, 303)


async def remove_time_off(request: Request) -> Response:
    practitioner = await session_practitioner(request)
    posted = await request.form()
    csrf_guard(request).verify(request, form_text(posted, CSRF_FIELD))
    await service_of(request).remove_time_off(practitioner.id, request.path_params["time_off_id"])
    return RedirectResponse(PAGE, 303)


routes = [
    Route(PAGE, time_off_page, methods=["GET"], name="practitioner_time_off"),
    Route(PAGE, add_time_off, methods=["POST"]),
    Route(
        f"{PAGE}/{{time_off_id}}/remove",
        remove_time_off,
        methods=["POST"],
        name="practitioner_time_off_remove",
    ),
]
