"""The practitioner's time-off page (issue 15 item 4), signed in through the e-mailed link, over the
fakes and SQLite: whole days and a range of local times blocked and removed, the booking page's
slots gone and back, refusals shown on the page, every form CSRF-protected."""

from __future__ import annotations

import re

import httpx
from starlette.testclient import TestClient

from tests.web.practitioner_sign_in import HTML, hidden_fields
from tests.web.test_api import MONDAY, book, first_slot
from tests.web.test_time_off_api import slots

PAGE = "/practitioner/time-off"


def _csrf(client: TestClient) -> str:
    return hidden_fields(client.get(PAGE, headers=HTML).text)["csrf_token"]


def _post(client: TestClient, path: str = PAGE, **form: str) -> httpx.Response:
    return client.post(path, data={"csrf_token": _csrf(client)} | form, headers=HTML, follow_redirects=False)


def _listed(client: TestClient) -> list[str]:
    """The rows of the page's table: 'from | until | note'."""
    page = client.get(PAGE, headers=HTML).text
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>", page, re.S)
    return [" | ".join(cell.strip() for cell in row) for row in rows]


def test_signed_out_the_page_sends_the_browser_to_sign_in(client: TestClient) -> None:
    answer = client.get(PAGE, headers=HTML, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].endswith("/practitioner/login")


def test_whole_days_blocked_and_removed(signed_in: TestClient) -> None:
    assert "You have no time off ahead." in signed_in.get(PAGE, headers=HTML).text
    added = _post(signed_in, kind="days", start=MONDAY, end=MONDAY, note="Conference")
    assert added.status_code == 303 and added.headers["location"] == PAGE
    assert _listed(signed_in) == ["Mon 14 Jan 2030 00:00 | Tue 15 Jan 2030 00:00 | Conference"]
    assert slots(signed_in) == []
    page = signed_in.get(PAGE, headers=HTML).text
    (remove,) = re.findall(r'action="([^"]*/remove)"', page)
    assert _post(signed_in, remove).status_code == 303
    assert _listed(signed_in) == []
    assert slots(signed_in)


def test_a_range_of_local_times(signed_in: TestClient) -> None:
    before = slots(signed_in)
    _post(signed_in, kind="range", start=f"{MONDAY}T11:00", end=f"{MONDAY}T12:00")
    assert _listed(signed_in) == ["Mon 14 Jan 2030 11:00 | Mon 14 Jan 2030 12:00 | "]
    assert slots(signed_in) == [start for start in before if "T11:00" not in start]


def test_a_wrong_form_is_shown_again_with_what_is_wrong(signed_in: TestClient) -> None:
    answer = _post(signed_in, kind="range", start=f"{MONDAY}T12:00", end=f"{MONDAY}T11:00", note="kept")
    assert answer.status_code == 422
    text = answer.text
    assert "The end must be after the start." in text
    assert 'value="kept"' in text
    assert _listed(signed_in) == []


def test_time_off_over_a_booking_is_refused_on_the_page(signed_in: TestClient) -> None:
    booked = book(signed_in, first_slot(signed_in)).json()
    answer = _post(signed_in, kind="days", start=MONDAY, end=MONDAY)
    assert answer.status_code == 409
    assert booked["id"] in answer.text
    assert "cancel it first" in answer.text
    assert _listed(signed_in) == []


def test_forms_without_the_csrf_token_change_nothing(signed_in: TestClient) -> None:
    refused = signed_in.post(PAGE, data={"kind": "days", "start": MONDAY, "end": MONDAY}, headers=HTML)
    assert refused.status_code == 403
    _post(signed_in, kind="days", start=MONDAY, end=MONDAY)
    (remove,) = re.findall(r'action="([^"]*/remove)"', signed_in.get(PAGE, headers=HTML).text)
    assert signed_in.post(remove, data={}, headers=HTML).status_code == 403
    assert len(_listed(signed_in)) == 1
