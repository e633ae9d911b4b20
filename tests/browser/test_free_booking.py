"""A visitor books a practitioner's free intro call: no payment page, straight to the confirmation;
the practitioner's paid session still goes to the payment page."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import embedded_environment, import_team
from tests.browser.test_booking_flow import open_week_with_slots

pytestmark = pytest.mark.browser

MIA = """
[[practitioners]]
id = "mia-free"
name = "Mia Free"
timezone = "Europe/Berlin"
currency = "EUR"
[[practitioners.services]]
id = "intro"
name = "Free intro call"
minutes = 15
price = "0.00"
[[practitioners.services]]
id = "session"
name = "Session"
minutes = 50
price = "90.00"
[practitioners.weekly]
mon = ["09:00-17:00"]
tue = ["09:00-17:00"]
wed = ["09:00-17:00"]
thu = ["09:00-17:00"]
fri = ["09:00-17:00"]
"""


@pytest.fixture(scope="module")
def mia(live_server: str, live_workdir: Path) -> str:
    """Mia imported into the running server's database (the CLI on the same data directory)."""
    import_team(MIA, embedded_environment(live_workdir), live_workdir)
    return f"{live_server}/book/mia-free"


def _details(page: Page) -> None:
    page.get_by_label("Name").fill("Ann Example")
    page.get_by_label("E-mail").fill("ann@example.com")
    page.get_by_label("Phone (with country code)").fill("+49 30 1234567")


def test_the_free_intro_call_is_booked_without_any_payment_page(browser: Browser, mia: str) -> None:
    visitor = browser.new_context(timezone_id="Europe/Berlin", locale="en-US")
    page = visitor.new_page()
    visited: list[str] = []
    page.on("framenavigated", lambda frame: visited.append(frame.url))
    page.goto(mia)
    page.get_by_role("link", name="Free intro call").click()
    open_week_with_slots(page)
    page.locator("input[name=start]").first.check()
    _details(page)
    page.get_by_role("button", name="Book for free").click()

    expect(page.get_by_role("heading", name="Your booking is confirmed")).to_be_visible()
    expect(page.get_by_text("Free intro call")).to_be_visible()
    expect(page.get_by_role("link", name="Move or cancel this booking")).to_be_visible()
    assert not [url for url in visited if "/test-payment" in url or "checkout" in url]
    visitor.close()


def test_the_paid_session_still_goes_to_the_payment_page(browser: Browser, mia: str) -> None:
    visitor = browser.new_context(timezone_id="Europe/Berlin", locale="en-US")
    page = visitor.new_page()
    page.goto(f"{mia}?service=session")
    open_week_with_slots(page)
    page.locator("input[name=start]").first.check()
    _details(page)
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.get_by_role("heading", name="Test payment: no money moves")).to_be_visible()
    visitor.close()
