"""The receiver example in docs/notifications.md accepts what the channel signs and rejects
tampering, other keys and replays."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from booking_adapters.outgoing_webhooks import signature

DOCS = Path(__file__).parents[3] / "docs" / "notifications.md"
SECRET = b"whsec_fake_docs"
BODY = b'{"id":"evt_1","type":"booking.confirmed"}'


@pytest.fixture(scope="module")
def verify() -> Callable[..., bool]:
    section = DOCS.read_text().split("### Verifying the signature", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "the docs lost their receiver example"
    assert len(match.group(1).strip().splitlines()) <= 10
    namespace: dict[str, object] = {}
    exec(match.group(1), namespace)
    function = namespace["verify"]
    assert callable(function)
    return function


def test_the_docs_example_accepts_a_fresh_signature(verify: Callable[..., bool]) -> None:
    assert verify(SECRET, signature(SECRET, int(time.time()), BODY), BODY)


@pytest.mark.parametrize(
    ("header_secret", "age", "body"),
    [
        (SECRET, 0, BODY + b" "),  # tampered body
        (b"whsec_fake_other", 0, BODY),  # someone else's key
        (SECRET, 6 * 60, BODY),  # a replay older than five minutes
    ],
)
def test_the_docs_example_rejects(
    verify: Callable[..., bool], header_secret: bytes, age: int, body: bytes
) -> None:
    header = signature(header_secret, int(time.time()) - age, BODY)
    assert not verify(SECRET, header, body)


@pytest.mark.parametrize("header", ["", "v1=abc", "t=abc,v1=abc", "t=1,v1=abc"])
def test_the_docs_example_rejects_malformed_headers(verify: Callable[..., bool], header: str) -> None:
    assert not verify(SECRET, header, BODY)
