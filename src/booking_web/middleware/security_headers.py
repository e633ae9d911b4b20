"""Security headers on every response. The booking pages (`framable` paths) may be shown in a frame
by the `frame_ancestors` origins (ALLOWED_ORIGINS: the practitioners' own websites); every other
page, and every page when no origin is allowed, may be framed by nobody."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from booking_web.middleware.path_patterns import any_of

# Checkout is the only other origin a form leads to (by redirect), so it is allowed as a form action.
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self' https://checkout.stripe.com; frame-ancestors {ancestors}; base-uri 'none'; "
    "object-src 'none'"
)

_Raw = list[tuple[bytes, bytes]]


class SecurityHeadersMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        https: bool,
        frame_ancestors: tuple[str, ...] = (),
        framable: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        headers = {
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",  # URLs of several pages carry tokens
            "Content-Security-Policy": _CSP.format(ancestors="'none'"),
            "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
            "Cross-Origin-Opener-Policy": "same-origin",
        }
        if https:
            headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        # ASGI's raw form, built once: every response of the service passes here.
        self.raw = _raw(headers)
        self.framable = any_of(framable) if framable and frame_ancestors else None
        # X-Frame-Options knows no list of origins: a framable page leaves it to frame-ancestors.
        framed = {name: value for name, value in headers.items() if name != "X-Frame-Options"}
        framed["Content-Security-Policy"] = _CSP.format(ancestors=" ".join(frame_ancestors))
        self.raw_framable = _raw(framed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        framable = self.framable is not None and self.framable.fullmatch(scope["path"]) is not None
        raw = self.raw_framable if framable else self.raw

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _value in headers}  # a response's own value wins
                message["headers"] = headers + [h for h in raw if h[0] not in present]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _raw(headers: dict[str, str]) -> _Raw:
    return [(name.lower().encode(), value.encode()) for name, value in headers.items()]
