"""The SentMailCopies port over the mailbox folder (the embedded default's .eml files, which the
development page /dev/mailbox shows): found and deleted by what they mention, for a client's
export and erasure. A message mentions what its headers or any of its decoded parts (text, HTML,
the calendar invite) contain, so that a name in a base64 or quoted-printable part is found too."""

from __future__ import annotations

import email
import email.policy
import os
import re
from collections.abc import Iterator, Sequence
from email.message import EmailMessage
from pathlib import Path

import anyio.to_thread
from attrs import frozen

from booking_core import SentMailCopy

MAILBOX_FILE = re.compile(r"^[0-9a-f]{32}\.eml$")  # what MailboxFolder writes (mailbox_file_name)


def read_message(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def mailbox_files(folder: Path) -> Iterator[Path]:
    """The messages in `folder` (none if it does not exist)."""
    if folder.is_dir():
        yield from (path for path in folder.iterdir() if MAILBOX_FILE.match(path.name))


def plain_text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    return str(body.get_content()) if body is not None else ""


def _everything_in(message: EmailMessage) -> str:
    """Headers and every part's decoded content, as one text to search."""
    texts = [f"{name}: {value}" for name, value in message.items()]
    for part in message.walk():
        if part.is_multipart():
            continue
        content = part.get_payload(decode=True)
        if isinstance(content, bytes):
            texts.append(content.decode(part.get_content_charset() or "utf-8", errors="replace"))
    return "\n".join(texts)


@frozen
class MailboxCopies:
    folder: Path

    async def mentioning(self, needles: Sequence[str]) -> Sequence[SentMailCopy]:
        return await anyio.to_thread.run_sync(self._mentioning, needles)

    async def erase(self, needles: Sequence[str]) -> int:
        return await anyio.to_thread.run_sync(self._erase, needles)

    def _matches(self, needles: Sequence[str]) -> Iterator[tuple[Path, EmailMessage]]:
        wanted = [needle.casefold() for needle in needles if needle]
        if not wanted:
            return
        for path in sorted(mailbox_files(self.folder)):
            message = read_message(path)
            text = _everything_in(message).casefold()
            if any(needle in text for needle in wanted):
                yield path, message

    def _mentioning(self, needles: Sequence[str]) -> list[SentMailCopy]:
        return [
            SentMailCopy(
                path.name,
                str(message["To"] or ""),
                str(message["Subject"] or ""),
                str(message["Date"] or ""),
                plain_text(message),
            )
            for path, message in self._matches(needles)
        ]

    def _erase(self, needles: Sequence[str]) -> int:
        doomed = [path for path, _ in self._matches(needles)]
        for path in doomed:
            size = path.stat().st_size
            with path.open("r+b") as file:  # overwritten first, then gone
                file.write(b"\0" * size)
                file.flush()
                os.fsync(file.fileno())
            path.unlink()
        return len(doomed)
