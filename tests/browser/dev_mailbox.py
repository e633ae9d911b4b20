"""Reading the development mailbox (/dev/mailbox) as a person would, in the browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

MAILBOX_LOOKS = 120  # a quarter of a second apart: mail is sent after the page answered


def open_mail(page: Page, mailbox: str, subject: str) -> None:
    """Open the latest mail whose subject holds `subject`; reload the mailbox until it is in."""
    for _ in range(MAILBOX_LOOKS):
        page.goto(mailbox)
        if page.get_by_role("link", name=subject).count():
            page.get_by_role("link", name=subject).first.click()
            return
        page.wait_for_timeout(250)
    pytest.fail(f"no mail {subject!r} in the mailbox")
