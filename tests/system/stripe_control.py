"""The fake Stripe server, remote-controlled: other processes complete, expire or settle sessions over
HTTP and receive the signed webhook Stripe would send, to deliver when (and as often as) they like."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from attrs import define
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from booking_adapters.stripe.local import SignedWebhook
from booking_adapters.testing.fake_stripe import FakeStripe

CONTROL = "/_control/sessions/{id}/{action}"


@define
class ControlledFakeStripe(FakeStripe):
    """FakeStripe plus `POST /_control/sessions/{id}/{complete|pay_later|succeed_async|expire}`."""

    def app(self) -> Starlette:
        return Starlette(routes=[Route(CONTROL, self._control, methods=["POST"]), Mount("", super().app())])

    async def _control(self, request: Request) -> JSONResponse:
        session_id, action = request.path_params["id"], request.path_params["action"]
        hooks: dict[str, Callable[[str], SignedWebhook]] = {
            "complete": self.complete,
            "pay_later": lambda sid: self.complete(sid, paid=False),
            "succeed_async": self.succeed_async,
            "expire": self.expire,
        }
        if action not in hooks or session_id not in self.sessions:
            return JSONResponse({"error": "unknown session or action"}, 404)
        try:
            webhook = hooks[action](session_id)
        except ValueError as error:  # the session is no longer open
            return JSONResponse({"error": str(error)}, 409)
        return JSONResponse({"payload": webhook.payload.decode(), "headers": webhook.headers})


def control(client: httpx.Client, session_id: str, action: str) -> SignedWebhook | None:
    """Ask the fake to act on a session; the webhook it emitted, or None if the session was not open."""
    answer = client.post(CONTROL.format(id=session_id, action=action))
    if answer.status_code == 409:
        return None
    answer.raise_for_status()
    body = answer.json()
    return SignedWebhook(body["payload"].encode(), body["headers"])
