"""SMTP_URL, the SMTP transport against a real server on 127.0.0.1, and the mailbox folder."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from booking_adapters.mail import (
    MailboxFolder,
    SmtpSettings,
    SmtpTransport,
    mail_transport,
    mailbox_file_name,
)
from booking_core import ProviderError
from tests.unit.notifications.servers import SmtpSink


def _message(to: str = "ann@example.com", message_id: str = "<m1@book.example.org>") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "bookings@book.example.org"
    message["To"] = to
    message["Subject"] = "Hello"
    message["Message-ID"] = message_id
    message.set_content("Body")
    return message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtp://user%40example.org:p%3Ass@mail.example.org:2525?starttls=true",
            SmtpSettings("mail.example.org", 2525, "user@example.org", "p:ss", False, True),
        ),
        ("smtp://mail.example.org", SmtpSettings("mail.example.org", 587)),
        ("smtp://mail.example.org:25?starttls=false", SmtpSettings("mail.example.org", 25, start_tls=False)),
        ("smtps://u:p@mail.example.org", SmtpSettings("mail.example.org", 465, "u", "p", True, False)),
    ],
)
def test_smtp_url_names_host_port_credentials_and_tls(url: str, expected: SmtpSettings) -> None:
    assert SmtpSettings.from_url(url) == expected


@pytest.mark.parametrize(
    "url", ["http://mail.example.org", "smtp://", "smtps://h?starttls=true", "smtp://h?starttls=maybe"]
)
def test_bad_smtp_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="SMTP_URL"):
        SmtpSettings.from_url(url)


def test_password_stays_out_of_repr() -> None:
    assert "hunter2" not in repr(SmtpSettings.from_url("smtp://u:hunter2@mail.example.org"))


def test_without_smtp_url_mail_goes_to_the_folder(tmp_path: Path) -> None:
    assert mail_transport(None, tmp_path) == MailboxFolder(tmp_path)
    assert isinstance(mail_transport("smtp://127.0.0.1:2525", tmp_path), SmtpTransport)


@pytest.mark.anyio
async def test_smtp_transport_hands_the_message_to_the_server(smtp: SmtpSink) -> None:
    smtp.start()
    await SmtpTransport(SmtpSettings.from_url(smtp.url)).send(_message())
    ((recipients, received),) = smtp.received
    assert recipients == ["ann@example.com"]
    assert received["Message-ID"] == "<m1@book.example.org>"


@pytest.mark.anyio
async def test_unreachable_server_is_a_retryable_provider_error(smtp: SmtpSink) -> None:
    with pytest.raises(ProviderError) as caught:
        await SmtpTransport(SmtpSettings.from_url(smtp.url)).send(_message())  # never started
    assert caught.value.retryable


@pytest.mark.anyio
async def test_refused_recipient_is_permanent_and_not_named(smtp: SmtpSink) -> None:
    smtp.refuse.add("gone@example.com")
    smtp.start()
    with pytest.raises(ProviderError) as caught:
        await SmtpTransport(SmtpSettings.from_url(smtp.url)).send(_message(to="gone@example.com"))
    assert not caught.value.retryable
    assert "550" in str(caught.value)
    assert "gone@example.com" not in str(caught.value)  # the relay logs this message


@pytest.mark.anyio
async def test_mailbox_folder_writes_one_file_per_message_id(tmp_path: Path) -> None:
    folder = MailboxFolder(tmp_path / "mailbox")
    await folder.send(_message())
    await folder.send(_message())  # a redelivery overwrites
    await folder.send(_message(message_id="<m2@book.example.org>"))
    names = sorted(p.name for p in (tmp_path / "mailbox").iterdir())
    assert names == sorted(
        [mailbox_file_name("<m1@book.example.org>"), mailbox_file_name("<m2@book.example.org>")]
    )
    assert b"Subject: Hello" in (tmp_path / "mailbox" / names[0]).read_bytes()


@pytest.mark.anyio
async def test_unwritable_folder_is_a_provider_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ProviderError):
        await MailboxFolder(blocker / "mailbox").send(_message())
