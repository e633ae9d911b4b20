"""Stored markup is shown escaped, never run: a client named with HTML books, pays and cancels on the
embedded default, and every page that may show the name (success, cancel, /dev/mailbox) shows it as
text; a practitioner imported with an HTML name is escaped on every page too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import attrs
import pytest
from markupsafe import escape  # what Jinja escapes with

from booking_web.demo import DEMO_PRACTITIONERS
from tests.fuzz.stacks import CLIENT, HTML, Stack, embedded_stack, hidden_fields, memory_stack

CLIENT_NAMES = ("<script>alert(1)</script>", '<b>Ann</b> "><img src=x onerror=alert(1)>')
PRACTITIONER_NAME = "<img src=x onerror=alert(1)> Dr. <i>Who</i>"


def assert_only_escaped(html: str, markup: str, where: str) -> None:
    assert markup not in html, f"{where} shows {markup!r} unescaped"


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with embedded_stack(tmp_path_factory.mktemp("markup")) as stack:
        yield stack


@pytest.mark.parametrize("name", CLIENT_NAMES)
def test_a_client_name_with_markup_is_shown_escaped_everywhere(embedded: Stack, name: str) -> None:
    created = embedded.book(name=name)
    pages = {}
    paid = embedded.client.post(
        f"/test-payments/{created['checkout_session_id']}/pay", headers=HTML, follow_redirects=True
    )
    pages["success"] = paid.text
    manage_link = re.search(r'href="([^"]*/manage\?token=[^"]+)"', paid.text)
    assert manage_link is not None, "the success page links the booking's page"
    manage_url = manage_link.group(1).replace("&amp;", "&")
    pages["manage"] = embedded.client.get(manage_url, headers=HTML).text
    cancel_page = embedded.client.get(manage_url.replace("/manage?", "/cancel?"), headers=HTML)
    pages["cancel"] = cancel_page.text
    done = embedded.client.post(
        f"/booking/{created['id']}/cancel", data=hidden_fields(cancel_page.text), headers=HTML
    )
    pages["cancelled"] = done.text
    pages["checkout cancelled"] = embedded.client.get(
        "/booking/cancelled", params={"booking": created["id"]}, headers=HTML
    ).text
    embedded.deliver_outbox()
    listing = embedded.client.get("/dev/mailbox", headers=HTML)
    assert listing.status_code == 200
    pages["mailbox"] = listing.text
    for letter in sorted(set(re.findall(r'href="/dev/mailbox/([0-9a-f]{32}\.eml)"', listing.text))):
        pages[f"mailbox/{letter}"] = embedded.client.get(f"/dev/mailbox/{letter}", headers=HTML).text

    for where, html in pages.items():
        assert_only_escaped(html, name, where)
    shown = [where for where, html in pages.items() if str(escape(name)) in html]
    assert any(where.startswith("mailbox/") for where in shown), "the practitioner's e-mail names the client"


def test_a_practitioner_name_with_markup_is_shown_escaped_on_every_page(tmp_path: Path) -> None:
    hostile = attrs.evolve(DEMO_PRACTITIONERS[0], name=PRACTITIONER_NAME)
    with memory_stack(tmp_path, practitioners=(hostile, *DEMO_PRACTITIONERS[1:])) as stack:
        created = stack.book()
        booking_id = created["id"]
        token = created["cancel_token"]
        pages = {
            "home": stack.client.get("/", headers=HTML).text,
            "booking page": stack.client.get("/book/jane-doe", headers=HTML).text,
            "success": stack.client.get(
                "/booking/success", params={"booking": booking_id}, headers=HTML
            ).text,
            "cancel": stack.client.get(
                f"/booking/{booking_id}/cancel", params={"token": token}, headers=HTML
            ).text,
            "checkout cancelled": stack.client.get(
                "/booking/cancelled", params={"booking": booking_id}, headers=HTML
            ).text,
        }
        form = hidden_fields(pages["booking page"]) | CLIENT | {"start": "not a time"}
        pages["form with errors"] = stack.client.post("/book/jane-doe", data=form, headers=HTML).text
    for where, html in pages.items():
        assert_only_escaped(html, PRACTITIONER_NAME, where)
        assert "<img src=x" not in html and "<i>Who</i>" not in html, where
        assert str(escape(PRACTITIONER_NAME)) in html, where


def test_a_week_link_keeps_an_odd_zone_inside_its_attribute(tmp_path: Path) -> None:
    with memory_stack(tmp_path) as stack:
        week = stack.client.app.state.booking.clock.now().date() + timedelta(days=7)  # type: ignore[attr-defined]
        page = stack.client.get(
            "/book/jane-doe",
            params={"tz": 'Europe/Berlin"><script>x</script>', "week": str(week)},
            headers=HTML,
        )
    assert page.status_code == 200
    assert "<script>x</script>" not in page.text
