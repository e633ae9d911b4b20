"""Where composed e-mails go: an SMTP server (SMTP_URL), or, in the embedded default, a folder of
.eml files that /dev/mailbox lists. Failures become ProviderError; their messages name no address."""

from __future__ import annotations

import hashlib
import os
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
import anyio.to_thread
from attrs import define, field, frozen

from booking_core import ProviderError


class MailTransport(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Hand over one message; raise ProviderError (retryable unless resending cannot help)."""
        ...


_TRUE, _FALSE = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no"})


@frozen
class SmtpSettings:
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    implicit_tls: bool = False  # smtps://
    start_tls: bool | None = None  # None: upgrade if the server offers it
    timeout_seconds: float = 30.0

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        """`smtp://user:pass@host:587?starttls=true`, or `smtps://host:465` for implicit TLS."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:password@host:port or smtps://host:port")
        implicit_tls = parts.scheme == "smtps"
        start_tls = _flag(parse_qs(parts.query).get("starttls", [""])[-1])
        if implicit_tls and start_tls:
            raise ValueError("SMTP_URL: smtps:// is already encrypted; drop ?starttls=true")
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit_tls else 587),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=implicit_tls,
            start_tls=False if implicit_tls else start_tls,
        )


def _flag(value: str) -> bool | None:
    if not value:
        return None
    if value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    raise ValueError(f"SMTP_URL: starttls must be true or false, not {value!r}")


@define
class SmtpTransport:
    settings: SmtpSettings

    async def send(self, message: EmailMessage) -> None:
        s = self.settings
        try:
            await aiosmtplib.send(
                message,
                hostname=s.host,
                port=s.port,
                username=s.username,
                password=s.password,
                use_tls=s.implicit_tls,
                start_tls=s.start_tls,
                timeout=s.timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = sorted({refusal.code for refusal in error.recipients})
            permanent = all(code >= 500 for code in codes)
            raise ProviderError(
                f"the mail server refused the recipient ({', '.join(map(str, codes))})",
                retryable=not permanent,
            ) from None
        except aiosmtplib.SMTPDataError as error:
            raise ProviderError(
                f"the mail server rejected the message ({error.code})", retryable=error.code < 500
            ) from None
        except aiosmtplib.SMTPResponseException as error:
            # sender refused, authentication failed, ...: configuration that an operator can fix
            raise ProviderError(f"the mail server answered {error.code}", retryable=True) from None
        except (aiosmtplib.SMTPException, OSError) as error:
            raise ProviderError(f"the mail server is unreachable ({type(error).__name__})") from None


def mailbox_file_name(message_id: str) -> str:
    """One file per Message-ID: delivering the same message again overwrites it."""
    return hashlib.sha256(message_id.encode()).hexdigest()[:32] + ".eml"


@define
class MailboxFolder:
    """The embedded default: each message becomes an .eml file that any mail program opens."""

    path: Path

    async def send(self, message: EmailMessage) -> None:
        try:
            await anyio.to_thread.run_sync(self._write, message)
        except OSError as error:
            raise ProviderError(f"cannot write to the mailbox folder ({type(error).__name__})") from None

    def _write(self, message: EmailMessage) -> None:
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)  # clients' names and addresses
        target = self.path / mailbox_file_name(str(message["Message-ID"]))
        partial = target.with_suffix(".part")
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as file:
            file.write(message.as_bytes())
        os.replace(partial, target)  # readers never see half a message


def mail_transport(smtp_url: str | None, mailbox_dir: Path) -> MailTransport:
    """SMTP when SMTP_URL is set, else the mailbox folder."""
    if smtp_url:
        return SmtpTransport(SmtpSettings.from_url(smtp_url))
    return MailboxFolder(mailbox_dir)
