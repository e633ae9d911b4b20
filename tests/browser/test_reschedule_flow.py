"""A client pays a session, opens the link in their confirmation e-mail (the development mailbox),
moves the session to another free time on their booking's page, and sees the new time on the page
and in the e-mail that says it moved."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.dev_mailbox import open_mail

pytestmark = pytest.mark.browser

MAX_WEEKS_TO_LOOK = 4


def test_a_paid_session_moves_from_the_e_mailed_link(browser: Browser, live_server: str) -> None:
    page = browser.new_context(timezone_id="America/New_York", locale="en-US").new_page()
    page.goto(f"{live_server}/book/jane-doe")
    # a session next week or later: one this week may lie within the notice a client's move needs
    page.get_by_role("link", name="Next week").first.click()
    _find_a_week_with_free_times(page)
    page.locator("input[name=start]").first.check()
    page.get_by_label("Name").fill("Ann Example")
    page.get_by_label("E-mail").fill("ann@example.com")
    page.get_by_label("Phone (with country code)").fill("+49 30 1234567")
    page.get_by_role("button", name="Continue to payment").click()
    page.get_by_role("button", name="Pay").click()
    expect(page.get_by_role("heading", name="Your booking is confirmed")).to_be_visible()

    open_mail(page, f"{live_server}/dev/mailbox", "Confirmed: your session with")
    link = re.search(r"http://\S+/booking/\S+/manage\?token=\S+", page.locator("pre").inner_text())
    assert link is not None, "the confirmation links the booking's page"
    page.goto(link.group(0))
    expect(page.get_by_role("heading", name="Your booking", exact=True)).to_be_visible()
    # the session's own time is not offered; its week may hold no other (the session took the last)
    _find_a_week_with_free_times(page)
    new_time = page.locator("input[name=start]").first
    chosen = datetime.fromisoformat(str(new_time.get_attribute("value")))  # in New York
    new_time.check()
    page.get_by_role("button", name="Move my session").click()

    expect(page.get_by_role("heading", name="Your session has moved")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(f"{chosen:%A %d %B %Y, %H:%M}")

    open_mail(page, f"{live_server}/dev/mailbox", "Moved: your session with")
    expect(page.locator("pre")).to_contain_text(f"Now:   {chosen:%A} {chosen.day} {chosen:%B %Y, %H:%M}")
    expect(page.locator("pre")).to_contain_text("(America/New_York)")
    page.context.close()


def _find_a_week_with_free_times(page: Page) -> None:
    for _ in range(MAX_WEEKS_TO_LOOK):
        if page.locator("input[name=start]").count():
            return
        page.get_by_role("link", name="Next week").first.click()
