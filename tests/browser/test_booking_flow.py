"""A visitor books, pays on the test-payment page and sees the confirmation; the slot is gone for the next."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

SCREENSHOT = Path(__file__).parents[2] / "docs" / "booking-page.png"
MAX_WEEKS_TO_LOOK = 4

pytestmark = pytest.mark.browser


def open_week_with_slots(page: Page) -> None:
    for _ in range(MAX_WEEKS_TO_LOOK):
        if page.locator("input[name=start]").count():
            return
        page.get_by_role("link", name="Next week").first.click()
    pytest.fail("no free slot in the first weeks")


def test_book_pay_confirm_and_the_slot_is_gone(browser: Browser, live_server: str, tmp_path: Path) -> None:
    visitor = browser.new_context(timezone_id="America/New_York", locale="en-US")
    page = visitor.new_page()
    page.goto(f"{live_server}/book/jane-doe")
    # the page notices the browser's time zone and shows times in it
    expect(page.get_by_label("Times shown in")).to_have_value("America/New_York")
    open_week_with_slots(page)
    week_url = page.url
    page.screenshot(path=tmp_path / "booking-page.png", full_page=True)

    slot = page.locator("input[name=start]").first
    chosen = slot.get_attribute("value")
    slot.check()
    page.get_by_label("Name").fill("Ann Example")
    page.get_by_label("E-mail").fill("ann@example.com")
    page.get_by_label("Phone (with country code)").fill("+49 30 1234567")
    page.get_by_role("button", name="Continue to payment").click()

    expect(page.get_by_role("heading", name="Test payment: no money moves")).to_be_visible()
    page.get_by_role("button", name="Pay").click()

    expect(page.get_by_role("heading", name="Your booking is confirmed")).to_be_visible()
    expect(page.get_by_role("link", name="Move or cancel this booking")).to_be_visible()
    visitor.close()

    second = browser.new_context(timezone_id="America/New_York").new_page()
    second.goto(week_url)
    expect(second.locator("input[name=start]").first).to_be_attached()
    assert second.locator(f'input[name=start][value="{chosen}"]').count() == 0
    second.context.close()

    assert (tmp_path / "booking-page.png").read_bytes().startswith(b"\x89PNG")
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(tmp_path / "booking-page.png", SCREENSHOT)


def test_the_form_shows_inline_errors_without_javascript(browser: Browser, live_server: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/book/sam-lee?tz=America/New_York")
    open_week_with_slots(page)
    page.locator("input[name=start]").first.check()
    page.get_by_label("Name").fill("Bo")
    page.get_by_label("E-mail").fill("not-an-address")
    page.get_by_label("Phone (with country code)").fill("+1 212 555 0100")
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.get_by_label("E-mail")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#email-error")).to_be_visible()
    expect(page.get_by_label("Name")).to_have_value("Bo")
    context.close()
