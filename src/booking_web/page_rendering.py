"""What every server-rendered page does alike: render a template uncached, carry the CSRF cookie,
read a form's text fields."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from booking_web.csrf import CsrfGuard


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    status: int = 200,
    csrf_cookie: str | None = None,
) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(
        request, template, context, status_code=status
    )
    response.headers["Cache-Control"] = "no-store"  # pages may carry tokens or booking state
    if csrf_cookie is not None:
        csrf_guard(request).remember(response, csrf_cookie)
    return response


def csrf_guard(request: Request) -> CsrfGuard:
    guard: CsrfGuard = request.app.state.csrf
    return guard


def form_text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""
