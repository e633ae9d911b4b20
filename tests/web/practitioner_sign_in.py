"""Signing a practitioner in through the app, as a browser or a script would: their e-mail, the
link the mailbox folder received, the session cookie; or an API token."""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage
from pathlib import Path

from anyio.from_thread import BlockingPortal
from attrs import evolve
from starlette.applications import Starlette
from starlette.testclient import TestClient

from booking_core import Practitioner
from booking_web.bootstrap import Container
from booking_web.demo import DEMO_PRACTITIONERS

HTML = {"Accept": "text/html"}
JANE = evolve(DEMO_PRACTITIONERS[0], email="jane.doe@example.org")
SAM = evolve(DEMO_PRACTITIONERS[1], email="sam.lee@example.org")


def container(client: TestClient) -> Container:
    app = client.app
    assert isinstance(app, Starlette)
    built: Container = app.state.container
    return built


def portal(client: TestClient) -> BlockingPortal:
    assert client.portal is not None, "use the client inside `with`"
    return client.portal


def with_emails(client: TestClient, *practitioners: Practitioner) -> None:
    """The demo practitioners have no e-mail address: give them one (they sign in with it)."""
    for practitioner in practitioners or (JANE, SAM):
        portal(client).call(container(client).service.directory.upsert, practitioner)


def api_token(client: TestClient, practitioner_id: str) -> str:
    return portal(client).call(container(client).access.issue_api_token, practitioner_id)


def revoke_tokens(client: TestClient, practitioner_id: str) -> int:
    return portal(client).call(container(client).access.revoke_api_tokens, practitioner_id)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))


def mails(folder: Path) -> list[EmailMessage]:
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def ask_for_link(client: TestClient, address: str) -> str:
    """Post the sign-in form; the page's text."""
    form = hidden_fields(client.get("/practitioner/login", headers=HTML).text)
    answer = client.post("/practitioner/login", data=form | {"email": address}, headers=HTML)
    assert answer.status_code == 200, answer.text
    return answer.text


def mailed_link(folder: Path, address: str) -> str:
    """The last sign-in link e-mailed to `address`."""
    links = [
        found.group(0)
        for message in mails(folder)
        if address in str(message["To"])
        for found in [re.search(r"http://testserver/practitioner/sign-in\?token=\S+", text_of(message))]
        if found is not None
    ]
    assert links, f"no sign-in link was mailed to {address}"
    return links[-1]


def follow_link(client: TestClient, link: str) -> None:
    """Open the link and press its button: the client holds the session cookie then."""
    page = client.get(link, headers=HTML)
    assert page.status_code == 200, page.text
    signed_in = client.post(
        "/practitioner/sign-in", data=hidden_fields(page.text), headers=HTML, follow_redirects=False
    )
    assert signed_in.status_code == 303, signed_in.text


def sign_in(client: TestClient, folder: Path, practitioner: Practitioner = JANE) -> None:
    assert practitioner.email is not None
    ask_for_link(client, practitioner.email)
    follow_link(client, mailed_link(folder, practitioner.email))
