"""Security headers on every response."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Checkout is the only other origin a form leads to (by redirect), so it is allowed as a form action.
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self' https://checkout.stripe.com; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        headers = {
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",  # URLs of several pages carry tokens
            "Content-Security-Policy": _CSP,
            "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
            "Cross-Origin-Opener-Policy": "same-origin",
        }
        if https:
            headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        # ASGI's raw form, built once: every response of the service passes here.
        self.raw = [(name.lower().encode(), value.encode()) for name, value in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _value in headers}  # a response's own value wins
                message["headers"] = headers + [h for h in self.raw if h[0] not in present]
            await send(message)

        await self.app(scope, receive, send_with_headers)
