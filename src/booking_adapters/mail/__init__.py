"""E-mail notifications: templates (compose), calendar invites (invite), SMTP or a local mailbox
folder (transport), and the outbox channels that tie them to booking events (channel)."""

from booking_adapters.extras import missing_extra

try:
    from booking_adapters.mail.channel import Audience, EmailChannel, email_channels, message_id, message_kind
    from booking_adapters.mail.compose import Invite, Letter, MailComposer, MessageKind, Recipient
    from booking_adapters.mail.copies import MailboxCopies
    from booking_adapters.mail.invite import InviteMethod, calendar_invite, invite_uid
    from booking_adapters.mail.reminder import ReminderMail
    from booking_adapters.mail.transport import (
        MailboxFolder,
        MailTransport,
        SmtpSettings,
        SmtpTransport,
        mail_transport,
        mailbox_file_name,
    )
except ModuleNotFoundError as missing:
    raise missing_extra(missing, __name__, "mail") from missing

__all__ = [
    "Audience",
    "EmailChannel",
    "Invite",
    "InviteMethod",
    "Letter",
    "MailComposer",
    "MailTransport",
    "MailboxCopies",
    "MailboxFolder",
    "MessageKind",
    "Recipient",
    "ReminderMail",
    "SmtpSettings",
    "SmtpTransport",
    "calendar_invite",
    "email_channels",
    "invite_uid",
    "mail_transport",
    "mailbox_file_name",
    "message_id",
    "message_kind",
]
