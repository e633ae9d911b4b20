"""The outbox channels a deployment delivers on: the Cal.com write-back, e-mail to the client and to
the practitioner, and one signed webhook per subscriber; and where reminders go (the client's e-mail)."""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from booking_adapters.calcom import Calcom
from booking_adapters.mail import (
    Audience,
    EmailChannel,
    MailComposer,
    ReminderMail,
    email_channels,
    mail_transport,
)
from booking_adapters.outgoing_webhooks import webhook_channels
from booking_core import BookingService, Channel, Clock, ReminderSender
from booking_web.local_secrets import persistent_secret
from booking_web.settings import Settings


def webhook_secret(settings: Settings) -> str:
    """WEBHOOK_SECRET, or (embedded default) one generated once and kept in the data directory."""
    return settings.webhook_secret or persistent_secret(
        settings.data_dir / "webhook_signing_secret", prefix="whsec_"
    )


def outbox_channels(
    settings: Settings, service: BookingService, calcom: Calcom, webhook_http: httpx.AsyncClient, clock: Clock
) -> list[Channel]:
    """Every channel, always including Cal.com's (it passes over practitioners without an event
    type), so that a practitioner connected later finds the channel already counting events."""
    writeback = calcom.channel(
        store=service.store, directory=service.directory, clock=clock, cancellations=service
    )
    channels: list[Channel] = [writeback]
    channels += email_channels(
        store=service.store,
        directory=service.directory,
        ids=service.ids,
        transport=mail_transport(settings.smtp_url, settings.mailbox_dir),
        composer=MailComposer(settings.sender),
        public_base_url=settings.public_base_url,
    )
    if settings.webhook_urls:
        secret = webhook_secret(settings).encode()
        channels += webhook_channels(settings.webhook_urls, secret, service.store, clock, webhook_http)
    return channels


def reminder_sender(channels: Sequence[Channel]) -> ReminderSender | None:
    """Reminders go by the client's e-mail channel among `channels` (None: there is none)."""
    for channel in channels:
        if isinstance(channel, EmailChannel) and channel.audience is Audience.CLIENT:
            return ReminderMail(channel)
    return None
