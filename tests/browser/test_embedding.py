"""A practitioner's own website, on another origin, shows the booking page through /embed.js and a
visitor books through it; separately, the website's script books through the JSON API (CORS).

The website is served as http://localhost:<port> while the service is http://127.0.0.1:<port>:
different sites, so the frame is a third party as on the real web (its cookie neither kept nor sent)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Browser, FrameLocator, expect

from tests.browser.conftest import embedded_environment, import_team
from tests.browser.test_free_booking import MIA
from tests.serving import booking_serve

pytestmark = pytest.mark.browser

MAX_WEEKS_TO_LOOK = 4
WEBSITE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Mia's practice</title></head>
<body>
<h1>Mia's practice</h1>
<div data-booking-page="{service}/book/mia-free?service=intro"></div>
<script src="{service}/embed.js" async></script>
<p id="below">Contact: mia@example.org</p>
</body></html>
"""
# What the website's own script does to book through the API (run in the website's page).
BOOK_THROUGH_THE_API = """async (service) => {
  const day = new Date(Date.now() + 7 * 86400000).toISOString().slice(0, 10);
  const end = new Date(Date.now() + 21 * 86400000).toISOString().slice(0, 10);
  const free = await fetch(`${service}/api/practitioners/jane-doe/availability?start=${day}&end=${end}`);
  const slots = (await free.json()).slots;
  const answer = await fetch(`${service}/api/bookings`, {
    method: "POST",
    headers: {"Content-Type": "application/json", "Idempotency-Key": crypto.randomUUID()},
    body: JSON.stringify({practitioner_id: "jane-doe", start: slots[0].start, name: "Bo Example",
                          email: "bo@example.com", phone: "+49 30 7654321"}),
  });
  return {status: answer.status, location: answer.headers.get("Location"), body: await answer.json()};
}"""


class _Website(ThreadingHTTPServer):
    page = ""


class _Pages(BaseHTTPRequestHandler):
    server: _Website

    def do_GET(self) -> None:
        body = self.server.page.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def website_and_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(the website's URL, the service's base URL): the service allows the website's origin."""
    workdir = tmp_path_factory.mktemp("embedding")
    website = _Website(("127.0.0.1", 0), _Pages)
    serving = threading.Thread(target=website.serve_forever, daemon=True)
    serving.start()
    site = f"http://localhost:{website.server_address[1]}"
    env = embedded_environment(workdir) | {"ALLOWED_ORIGINS": site}
    import_team(MIA, env, workdir)
    try:
        with booking_serve([], env, workdir) as service:
            website.page = WEBSITE.format(service=service)
            yield f"{site}/", service
    finally:
        website.shutdown()
        website.server_close()


def _open_week_with_slots(frame: FrameLocator) -> None:
    for _ in range(MAX_WEEKS_TO_LOOK):
        if frame.locator("input[name=start]").count():
            return
        frame.get_by_role("link", name="Next week").first.click()
    pytest.fail("no free slot in the first weeks")


def test_a_visitor_books_inside_the_practitioners_website(
    browser: Browser, website_and_service: tuple[str, str]
) -> None:
    website, _service = website_and_service
    visitor = browser.new_context(timezone_id="Europe/Berlin", locale="en-US")
    page = visitor.new_page()
    page.goto(website)
    frame = page.frame_locator("iframe")
    expect(frame.get_by_role("heading", name="Mia Free")).to_be_visible()
    # the frame takes the height its page reports, not the script's first guess
    page.wait_for_function("() => document.querySelector('iframe').style.height !== '720px'")
    framed = frame.locator("html").evaluate("html => Math.ceil(html.getBoundingClientRect().height)")
    page.wait_for_function("(h) => document.querySelector('iframe').style.height === h + 'px'", arg=framed)

    _open_week_with_slots(frame)
    frame.locator("input[name=start]").first.check()
    frame.get_by_label("Name").fill("Ann Example")
    frame.get_by_label("E-mail").fill("ann@example.com")
    frame.get_by_label("Phone (with country code)").fill("+49 30 1234567")
    frame.get_by_role("button", name="Book for free").click()

    expect(frame.get_by_role("heading", name="Your booking is confirmed")).to_be_visible()
    expect(frame.get_by_text("Free intro call")).to_be_visible()
    assert page.url == website  # the visitor never left the practitioner's website
    expect(page.locator("#below")).to_be_visible()
    visitor.close()


def test_the_website_books_through_the_api_from_the_browser(
    browser: Browser, website_and_service: tuple[str, str]
) -> None:
    website, service = website_and_service
    visitor = browser.new_context(timezone_id="Europe/Berlin", locale="en-US")
    page = visitor.new_page()
    page.goto(website)
    answer = page.evaluate(BOOK_THROUGH_THE_API, service)
    assert answer["status"] == 201, answer
    assert answer["location"].endswith(f"/api/bookings/{answer['body']['id']}")  # an exposed header
    assert answer["body"]["status"] == "pending_payment"
    assert answer["body"]["checkout_url"].startswith(service)
    visitor.close()
