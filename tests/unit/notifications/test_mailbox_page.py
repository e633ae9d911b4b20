"""/dev/mailbox lists what the mailbox folder holds and shows one message."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from booking_adapters.mail import MailboxFolder, mailbox_file_name
from booking_web.mailbox import routes
from tests.unit.notifications.world import CLIENT_EMAIL, PRACTITIONER_EMAIL, CollectedMail, World


def _client(folder: Path) -> TestClient:
    app = Starlette(routes=routes)
    app.state.mailbox_dir = folder
    return TestClient(app)


@pytest.mark.anyio
async def test_the_page_lists_and_shows_the_mails_of_a_confirmed_booking(
    world: World, tmp_path: Path
) -> None:
    collected = CollectedMail()
    relay = await world.relay(collected)
    await world.confirmed_booking()
    await relay.run_once()
    folder = MailboxFolder(tmp_path)
    for message in collected.sent:
        await folder.send(message)

    client = _client(tmp_path)
    listing = client.get("/dev/mailbox")
    assert listing.status_code == 200
    assert CLIENT_EMAIL in listing.text and PRACTITIONER_EMAIL in listing.text
    client_mail = next(m for m in collected.sent if CLIENT_EMAIL in str(m["To"]))
    name = mailbox_file_name(str(client_mail["Message-ID"]))
    assert f"/dev/mailbox/{name}" in listing.text

    shown = client.get(f"/dev/mailbox/{name}")
    assert shown.status_code == 200
    assert "manage?token=" in shown.text and "invite.ics" in shown.text
    raw = client.get(f"/dev/mailbox/{name}?raw=1")
    assert raw.headers["content-type"] == "message/rfc822"
    assert raw.content == (tmp_path / name).read_bytes()


def test_an_empty_or_missing_folder_says_so(tmp_path: Path) -> None:
    response = _client(tmp_path / "not-yet").get("/dev/mailbox")
    assert response.status_code == 200
    assert "No messages yet" in response.text


@pytest.mark.parametrize("name", ["nothing.eml", "..%2F..%2Fetc%2Fpasswd", "0" * 32 + ".eml"])
def test_only_existing_mailbox_files_are_served(tmp_path: Path, name: str) -> None:
    (tmp_path / "nothing.eml").write_text("Subject: not from the mailbox\n\n")
    assert _client(tmp_path).get(f"/dev/mailbox/{name}").status_code == 404
