"""A minimal HTTP/1.1 keep-alive client on asyncio protocols and httptools' C parser.

httpx spends more CPU per request than the server under test does (measured in docs/performance.md);
on a 2-core machine the load generator shares the cores with the server, so its cost per request
must stay small. This client does exactly one thing: send a prepared request on its own connection
and wait for the complete response.
"""

from __future__ import annotations

import asyncio
from typing import cast

import httptools
from attrs import frozen

RESPONSE_TIMEOUT_SECONDS = 30.0


@frozen
class Request:
    method: str
    path: str
    body: bytes = b""
    client_address: str | None = None  # sent as X-Forwarded-For (the service believes the bench)

    def encode(self, host: str) -> bytes:
        head = f"{self.method} {self.path} HTTP/1.1\r\nHost: {host}\r\n"
        if self.client_address:
            head += f"X-Forwarded-For: {self.client_address}\r\n"
        if self.body or self.method == "POST":
            head += f"Content-Type: application/json\r\nContent-Length: {len(self.body)}\r\n"
        return head.encode("ascii") + b"\r\n" + self.body


@frozen
class Response:
    status: int
    body: bytes


class _Protocol(asyncio.Protocol):
    """Feeds bytes to the parser and completes one waiting future per parsed response."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[Response] | None = None
        self.parts: list[bytes] = []
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's does not subclass it

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(ConnectionError(f"unparseable response: {error}"))

    def on_body(self, body: bytes) -> None:
        self.parts.append(body)

    def on_message_complete(self) -> None:
        response = Response(self.parser.get_status_code(), b"".join(self.parts))
        self.parts = []
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(response)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ConnectionError("the server closed the connection"))
        if not self.closed.done():
            self.closed.set_result(None)

    def _fail(self, error: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(error)


class Connection:
    """One keep-alive connection; reconnects once if the server closed it between requests."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.authority = f"{host}:{port}"
        self._protocol: _Protocol | None = None

    async def _connect(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        _transport, protocol = await loop.create_connection(_Protocol, self.host, self.port)
        return protocol

    async def open(self) -> None:
        if self._protocol is None or self._protocol.closed.done():
            self._protocol = await self._connect()

    async def send(self, request: Request) -> Response:
        await self.open()
        protocol = self._protocol
        assert protocol is not None and protocol.transport is not None
        protocol.waiter = asyncio.get_running_loop().create_future()
        protocol.transport.write(request.encode(self.authority))
        async with asyncio.timeout(RESPONSE_TIMEOUT_SECONDS):
            return await protocol.waiter

    async def close(self) -> None:
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.close()
            await self._protocol.closed
        self._protocol = None
