"""Real servers on 127.0.0.1 for the notification tests: an SMTP sink (aiosmtpd) and a webhook
receiver (Starlette under uvicorn). Both can be created "down" and started later."""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.serving import free_port

_STARTUP_POLLS = 500  # x 10 ms


class SmtpSink:
    """Keeps every message it accepts; addresses in `refuse` get a permanent 550."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[tuple[list[str], EmailMessage]] = []
        self.refuse: set[str] = set()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?starttls=false"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for recipients, message in self.received if address in recipients]


def verify_signature(secret: bytes, header: str, body: bytes, now: float, tolerance: int = 300) -> bool:
    """What the docs tell receivers to do, written independently of the sender's code."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if "t" not in fields or "v1" not in fields or abs(now - int(fields["t"])) > tolerance:
        return False
    expected = hmac.new(secret, fields["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


class WebhookReceiver:
    """A subscriber: verifies each request's signature and keeps the verified events.
    `status` is what it answers (set 503 or 410 to play a sick or a gone subscriber)."""

    def __init__(self, secret: bytes, now: Callable[[], float]) -> None:
        self.secret, self.now = secret, now
        self.events: list[dict[str, Any]] = []
        self.rejected = 0
        self.status = 200
        # Bound now but not listening: connections are refused until start().
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}/hooks"
        app = Starlette(routes=[Route("/hooks", self._receive, methods=["POST"])])
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self._thread: threading.Thread | None = None

    async def _receive(self, request: Request) -> Response:
        body = await request.body()
        if not verify_signature(
            self.secret, request.headers.get("x-booking-signature", ""), body, self.now()
        ):
            self.rejected += 1
            return Response(status_code=400)
        if self.status < 300:
            self.events.append(json.loads(body))
        return Response(status_code=self.status)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]})
        self._thread.start()
        for _ in range(_STARTUP_POLLS):
            if self._server.started:
                return
            time.sleep(0.01)
        raise RuntimeError("the webhook receiver did not start")

    def stop(self) -> None:
        if self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._socket.close()
