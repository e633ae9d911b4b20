"""The schema as SQLAlchemy Core tables. Alembic migrations create it; this module describes it for
queries (and for the test that checks migrations and tables agree).

Nothing is ever deleted: a released slot is a status change, a removed practitioner a date in
`removed_at`, and the history only grows. Two exceptions: practitioners' credentials (secrets, not
history, deleted once used, ended, revoked or expired) and the time off a practitioner withdraws.
An erased client's details are overwritten in place (sql/client_data.py): the rows stay.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from booking_core import BookingStatus

ALL_STATUS_SQL = ", ".join(f"'{status.value}'" for status in BookingStatus)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out. PostgreSQL stores timestamptz; SQLite stores
    fixed-width UTC text, so that comparing two values as text (as the SQLite triggers do) compares
    the instants."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} cannot be stored")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Json = JSON().with_variant(JSONB(), "postgresql")
metadata = MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    }
)


def _money(name: str, *, nullable: bool = True) -> list[Column[Any]]:
    """A Money value as two columns: integer minor units and the ISO currency."""
    return [
        Column(f"{name}_amount", BigInteger, nullable=nullable),
        Column(f"{name}_currency", String(3), nullable=nullable),
    ]


def _partial_index(name: str, *columns: str, where: str) -> Index:
    """An index of the rows `where` holds only: the condition is stated once, for both databases."""
    condition = text(where)
    return Index(name, *columns, postgresql_where=condition, sqlite_where=condition)


practitioners = Table(
    "practitioners",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("offer", Json, nullable=False),
    Column("schedule", Json, nullable=False),
    Column("calcom_event_type_id", BigInteger),
    Column("email", String(320)),
    # Set by `remove`: the practitioner is offered nowhere and booked no more, but kept (and with
    # them their bookings' history) for the pages, e-mails and refunds of past bookings.
    Column("removed_at", UtcDateTime),
    # Empty: the one service of the offer (booking_core.Practitioner.offered_services).
    Column("services", Json, nullable=False, server_default="[]"),
    # Empty: no limits (booking_core.BookingLimits); a service's own are in `services`.
    Column("limits", Json, nullable=False, server_default="{}"),
)

# No foreign key to practitioners: the store accepts bookings of any practitioner id, like its port
# (it refuses those of a removed practitioner; practitioner rows are never deleted).
bookings = Table(
    "bookings",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("practitioner_id", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("slot_start", UtcDateTime, nullable=False),
    Column("slot_end", UtcDateTime, nullable=False),
    Column("occupied_start", UtcDateTime, nullable=False),
    Column("occupied_end", UtcDateTime, nullable=False),
    Column("hold_expires_at", UtcDateTime, nullable=False),
    Column("client_name", String(200), nullable=False),
    Column("client_email", String(320), nullable=False),
    Column("client_phone", String(32), nullable=False),
    Column("client_timezone", String(64), nullable=False),
    *_money("price", nullable=False),
    Column("cancel_token_hash", String(64), nullable=False),
    Column("idempotency_key", String(255)),
    Column("checkout_session_id", String(255)),
    Column("checkout_url", Text),
    Column("payment_intent_id", String(255)),
    *_money("amount_paid"),
    *_money("refund_owed"),
    Column("refund_id", String(255)),
    *_money("amount_refunded"),
    Column("calendar_uid", String(255)),
    Column("payment_check_due", Boolean, nullable=False, server_default=false()),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # the IPv4 address or IPv6 /64 of a pending hold, or a confirmed free booking, only
    Column("client_address", String(64)),
    Column("request_hash", String(64)),  # SHA-256 hex of the request an Idempotency-Key made
    # The service booked, as it was then (bookings made before services: the offer's `session`).
    Column("service_id", String(64), nullable=False, server_default="session"),
    Column("service_name", String(200), nullable=False, server_default="Session"),
    Column("reschedule_count", Integer, nullable=False, server_default="0"),  # moves, by anyone
    # the Checkout Session ids a move of the unpaid hold replaced, oldest first, space-separated
    Column("replaced_checkouts", Text),
    UniqueConstraint("practitioner_id", "idempotency_key"),
    CheckConstraint(f"status IN ({ALL_STATUS_SQL})", name="status"),
    CheckConstraint("occupied_start < occupied_end", name="occupied_not_empty"),
    CheckConstraint("occupied_start <= slot_start AND slot_end <= occupied_end", name="slot_within_occupied"),
    Index("ix_bookings_practitioner_occupied", "practitioner_id", "occupied_start"),
    _partial_index("ix_bookings_lapsed_holds", "hold_expires_at", where="status = 'pending_payment'"),
    _partial_index(
        "ix_bookings_refunds_due", "updated_at", where="refund_owed_amount IS NOT NULL AND refund_id IS NULL"
    ),
    # the confirmed sessions ahead, for their reminders (booking_adapters.sql.reminders)
    _partial_index("ix_bookings_confirmed_start", "slot_start", where="status = 'confirmed'"),
    _partial_index("ix_bookings_sessions_ended", "slot_end", where="status = 'confirmed'"),
    _partial_index("ix_bookings_payment_checks_due", "updated_at", where="payment_check_due"),
)

# A practitioner's time off: no live booking's occupied span may overlap it (migration 0009: a trigger
# on `bookings` on both databases; on PostgreSQL under the lock TIME_OFF_LOCK names). Rows are few
# per practitioner; the index by end finds those not yet over, which are all a booking can meet.
time_off = Table(
    "time_off",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("practitioner_id", String(64), nullable=False),
    Column("span_start", UtcDateTime, nullable=False),
    Column("span_end", UtcDateTime, nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("span_start < span_end", name="span_not_empty"),
    Index("ix_time_off_practitioner_id_span_end", "practitioner_id", "span_end"),
)

processed_payment_events = Table(
    "processed_payment_events",
    metadata,
    Column("event_id", String(255), primary_key=True),
    Column("processed_at", UtcDateTime, nullable=False),
)

# The append-only history; `seq` orders it and is the outbox position.
booking_events = Table(
    "booking_events",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("booking_id", String(64), nullable=False, index=True),
    Column("trigger", String(40), nullable=False),
    Column("from_status", String(20)),
    Column("to_status", String(20), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("reason", Text, nullable=False),
    # a move (trigger `rescheduled`): the slot before and after it; NULL for every other trigger
    Column("moved_from_start", UtcDateTime),
    Column("moved_from_end", UtcDateTime),
    Column("moved_to_start", UtcDateTime),
    Column("moved_to_end", UtcDateTime),
)

# A channel delivers the events after `start_seq`: those recorded after it was first claimed.
outbox_channels = Table(
    "outbox_channels",
    metadata,
    Column("channel", String(64), primary_key=True),
    Column("start_seq", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# One row per (channel, event) once claimed. Given up: attempts > 0, next_attempt_at NULL, not delivered.
outbox_deliveries = Table(
    "outbox_deliveries",
    metadata,
    Column("channel", String(64), nullable=False),
    Column("seq", BigInteger, ForeignKey("booking_events.seq"), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime),
    Column("leased_until", UtcDateTime),
    Column("last_error", Text, nullable=False),
    Column("delivered_at", UtcDateTime),
    PrimaryKeyConstraint("channel", "seq"),
)

# Practitioners' sign-in links, sessions and API tokens, by the SHA-256 of the secret
# (booking_core.credentials); no foreign key, like bookings: the directory is the port's business.
practitioner_credentials = Table(
    "practitioner_credentials",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("practitioner_id", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime),  # NULL: until revoked (API tokens)
    Index("ix_practitioner_credentials_practitioner_id_kind", "practitioner_id", "kind"),
    Index("ix_practitioner_credentials_expires_at", "expires_at"),
)

# One calendar feed key per practitioner (booking_core.calendar_feed): a rotation replaces the row.
calendar_feeds = Table(
    "calendar_feeds",
    metadata,
    Column("practitioner_id", String(64), primary_key=True),
    Column("generation", Integer, nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
)

# The reminders sent (booking_core.reminders), one row per (booking, start, offset, channel) once
# claimed: a reminder is derived from its booking, so a moved booking's new start is another key
# and a cancelled booking's are never claimed. `leased_until` is also a failed one's retry time.
reminder_deliveries = Table(
    "reminder_deliveries",
    metadata,
    Column("booking_id", String(64), ForeignKey("bookings.id"), nullable=False),
    Column("slot_start", UtcDateTime, nullable=False),
    Column("offset_seconds", Integer, nullable=False),
    Column("channel", String(64), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=False),
    Column("leased_until", UtcDateTime),
    Column("sent_at", UtcDateTime),
    PrimaryKeyConstraint("booking_id", "slot_start", "offset_seconds", "channel"),
)
