"""A practitioner signs in through the link e-mailed to the development mailbox, sees the session
a visitor just booked and paid for on the local test-payment page, cancels it, and the visitor's
slot is offered again; then subscribes to their calendar feed's address and makes a new one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.dev_mailbox import open_mail
from tests.serving import booking_serve

pytestmark = pytest.mark.browser

MAX_WEEKS_TO_LOOK = 4
TEAM = """
[[practitioners]]
id = "ada-ng"
name = "Ada Ng"
email = "ada.ng@example.org"
timezone = "Europe/Berlin"
session_minutes = 50
price = "90.00"
currency = "EUR"
[practitioners.weekly]
mon = ["08:00-20:00"]
tue = ["08:00-20:00"]
wed = ["08:00-20:00"]
thu = ["08:00-20:00"]
fri = ["08:00-20:00"]
sat = ["08:00-20:00"]
sun = ["08:00-20:00"]
"""


@pytest.fixture(scope="module")
def served_with_ada(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The embedded default (development mode, /dev/mailbox) with a practitioner who has an e-mail."""
    workdir = tmp_path_factory.mktemp("practitioner")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STRIPE_", "DATABASE_URL", "BOOKING_", "PUBLIC_BASE_URL"))
    }
    env |= {"BOOKING_DATA_DIR": str(workdir / "var"), "NO_PROXY": "127.0.0.1,localhost"}
    (workdir / "team.toml").write_text(TEAM)
    booking = str(Path(sys.executable).with_name("booking"))
    subprocess.run([booking, "practitioners", "import", "team.toml"], cwd=workdir, env=env, check=True)
    with booking_serve([], env, workdir) as base:
        yield base


def _until_visible(page: Page, text: str) -> None:
    for _ in range(MAX_WEEKS_TO_LOOK):
        if page.get_by_text(text).count():
            return
        page.get_by_role("link", name="Next week").first.click()
    pytest.fail(f"{text!r} is not in the first weeks")


def test_the_practitioner_signs_in_sees_the_paid_session_and_cancels_it(
    browser: Browser, served_with_ada: str
) -> None:
    base = served_with_ada
    visitor = browser.new_context(timezone_id="Europe/Berlin").new_page()
    visitor.goto(f"{base}/book/ada-ng")
    for _ in range(MAX_WEEKS_TO_LOOK):
        if visitor.locator("input[name=start]").count():
            break
        visitor.get_by_role("link", name="Next week").first.click()
    week_page, chosen = visitor.url, visitor.locator("input[name=start]").first
    start = chosen.get_attribute("value")
    chosen.check()
    visitor.get_by_label("Name").fill("Ann Example")
    visitor.get_by_label("E-mail").fill("ann@example.com")
    visitor.get_by_label("Phone (with country code)").fill("+49 30 1234567")
    visitor.get_by_role("button", name="Continue to payment").click()
    visitor.get_by_role("button", name="Pay").click()
    expect(visitor.get_by_role("heading", name="Your booking is confirmed")).to_be_visible()
    slot = f'input[name=start][value="{start}"]'
    visitor.goto(week_page)
    expect(visitor.locator(slot)).to_have_count(0)  # taken

    practitioner = browser.new_context(timezone_id="Europe/Berlin").new_page()
    practitioner.goto(f"{base}/practitioner/bookings")  # not signed in: to the sign-in form
    practitioner.get_by_label("Your e-mail address").fill("ada.ng@example.org")
    practitioner.get_by_role("button", name="Send me a sign-in link").click()
    expect(practitioner.get_by_role("status")).to_contain_text("a sign-in link is on its way")

    open_mail(practitioner, f"{base}/dev/mailbox", "Your sign-in link")
    link = re.search(r"http://\S+/practitioner/sign-in\?token=\S+", practitioner.locator("pre").inner_text())
    assert link is not None
    practitioner.goto(link.group(0))
    practitioner.get_by_role("button", name="Sign in").click()
    expect(practitioner.get_by_role("heading", name="Your sessions")).to_be_visible()
    _until_visible(practitioner, "Ann Example")
    session = practitioner.locator("li.session", has_text="Ann Example")
    expect(session).to_contain_text("ann@example.com")
    expect(session).to_contain_text("+49301234567")
    expect(session).to_contain_text("Confirmed")
    expect(session).to_contain_text("Paid 90.00 EUR")

    session.get_by_role("link", name="Cancel").click()
    practitioner.get_by_label("Reason (optional, sent to the client)").fill("I am ill")
    practitioner.get_by_role("button", name="Cancel the session").click()
    expect(practitioner.locator("li.session", has_text="Ann Example")).to_contain_text("Cancelled")
    visitor.goto(week_page)
    expect(visitor.locator(slot)).to_have_count(1)  # free again for the next visitor
    visitor.context.close()

    practitioner.get_by_role("link", name="Calendar").click()  # their feed, to subscribe to
    address = practitioner.get_by_label("Your calendar's address").input_value()
    feed = practitioner.request.get(f"{base}{urlsplit(address).path}")
    assert feed.status == 200 and feed.headers["content-type"].startswith("text/calendar")
    practitioner.get_by_role("button", name="New address").click()
    expect(practitioner.get_by_role("status")).to_contain_text("The old one no longer works")
    new_address = practitioner.get_by_label("Your calendar's address").input_value()
    assert new_address != address
    assert practitioner.request.get(f"{base}{urlsplit(address).path}").status == 404
    assert practitioner.request.get(f"{base}{urlsplit(new_address).path}").status == 200
    practitioner.get_by_role("link", name="Your sessions").click()

    practitioner.get_by_role("button", name="Sign out").click()
    expect(practitioner.get_by_role("heading", name="Sign in")).to_be_visible()
    practitioner.goto(f"{base}/practitioner/bookings")
    expect(practitioner.get_by_label("Your e-mail address")).to_be_visible()  # signed out
    practitioner.context.close()
