"""The initial schema: practitioners, bookings with the no-overlap guarantee, history, outbox.

Revision ID: 0001_initial
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

_LIVE = "'confirmed', 'pending_payment'"
_STATUSES = "'pending_payment', 'confirmed', 'expired', 'cancelled', 'refund_due', 'refunded'"
_INSTANT = sa.DateTime(timezone=True)

# PostgreSQL: two live bookings of one practitioner may not overlap; `[)` makes touching spans legal.
_POSTGRES_GUARANTEE = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    f"""ALTER TABLE bookings ADD CONSTRAINT ex_bookings_live_overlap EXCLUDE USING gist (
        practitioner_id WITH =,
        tstzrange(occupied_start, occupied_end, '[)') WITH &&
    ) WHERE (status IN ({_LIVE}))""",
]

# SQLite has no exclusion constraints; triggers check the same rule inside the (serialised) write.
_SQLITE_OVERLAP = f"""
    NEW.status IN ({_LIVE}) AND EXISTS (
        SELECT 1 FROM bookings AS other
        WHERE other.practitioner_id = NEW.practitioner_id AND other.id <> NEW.id
          AND other.status IN ({_LIVE})
          AND other.occupied_start < NEW.occupied_end AND NEW.occupied_start < other.occupied_end)"""  # noqa: S608 (constants only)
_SQLITE_GUARANTEE = [
    f"""CREATE TRIGGER bookings_live_overlap_insert BEFORE INSERT ON bookings
        WHEN {_SQLITE_OVERLAP}
        BEGIN SELECT RAISE(ABORT, 'booking_overlap'); END""",
    f"""CREATE TRIGGER bookings_live_overlap_update
        BEFORE UPDATE OF status, practitioner_id, occupied_start, occupied_end ON bookings
        WHEN {_SQLITE_OVERLAP}
        BEGIN SELECT RAISE(ABORT, 'booking_overlap'); END""",
]


def _money(name: str, *, nullable: bool = True) -> list[sa.Column[int] | sa.Column[str]]:
    return [
        sa.Column(f"{name}_amount", sa.BigInteger, nullable=nullable),
        sa.Column(f"{name}_currency", sa.String(3), nullable=nullable),
    ]


def upgrade() -> None:
    json = sa.JSON().with_variant(JSONB(), "postgresql")
    op.create_table(
        "practitioners",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("offer", json, nullable=False),
        sa.Column("schedule", json, nullable=False),
        sa.Column("calcom_event_type_id", sa.BigInteger),
        sa.PrimaryKeyConstraint("id", name="pk_practitioners"),
    )
    op.create_table(
        "bookings",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("practitioner_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("slot_start", _INSTANT, nullable=False),
        sa.Column("slot_end", _INSTANT, nullable=False),
        sa.Column("occupied_start", _INSTANT, nullable=False),
        sa.Column("occupied_end", _INSTANT, nullable=False),
        sa.Column("hold_expires_at", _INSTANT, nullable=False),
        sa.Column("client_name", sa.String(200), nullable=False),
        sa.Column("client_email", sa.String(320), nullable=False),
        sa.Column("client_phone", sa.String(32), nullable=False),
        sa.Column("client_timezone", sa.String(64), nullable=False),
        *_money("price", nullable=False),
        sa.Column("cancel_token_hash", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(255)),
        sa.Column("checkout_session_id", sa.String(255)),
        sa.Column("checkout_url", sa.Text),
        sa.Column("payment_intent_id", sa.String(255)),
        *_money("amount_paid"),
        *_money("refund_owed"),
        sa.Column("refund_id", sa.String(255)),
        *_money("amount_refunded"),
        sa.Column("calendar_uid", sa.String(255)),
        sa.Column("created_at", _INSTANT, nullable=False),
        sa.Column("updated_at", _INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_bookings"),
        sa.UniqueConstraint(
            "practitioner_id", "idempotency_key", name="uq_bookings_practitioner_id_idempotency_key"
        ),
        sa.CheckConstraint(f"status IN ({_STATUSES})", name="ck_bookings_status"),
        sa.CheckConstraint("occupied_start < occupied_end", name="ck_bookings_occupied_not_empty"),
        sa.CheckConstraint(
            "occupied_start <= slot_start AND slot_end <= occupied_end",
            name="ck_bookings_slot_within_occupied",
        ),
    )
    op.create_index("ix_bookings_practitioner_occupied", "bookings", ["practitioner_id", "occupied_start"])
    pending = sa.text("status = 'pending_payment'")
    op.create_index(
        "ix_bookings_lapsed_holds",
        "bookings",
        ["hold_expires_at"],
        postgresql_where=pending,
        sqlite_where=pending,
    )
    owed = sa.text("refund_owed_amount IS NOT NULL AND refund_id IS NULL")
    op.create_index(
        "ix_bookings_refunds_due", "bookings", ["updated_at"], postgresql_where=owed, sqlite_where=owed
    )
    op.create_table(
        "processed_payment_events",
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("processed_at", _INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_processed_payment_events"),
    )
    op.create_table(
        "booking_events",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("booking_id", sa.String(64), nullable=False),
        sa.Column("trigger", sa.String(40), nullable=False),
        sa.Column("from_status", sa.String(20)),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("at", _INSTANT, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_booking_events"),
    )
    op.create_index("ix_booking_events_booking_id", "booking_events", ["booking_id"])
    op.create_table(
        "outbox_channels",
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("start_seq", sa.BigInteger, nullable=False),
        sa.Column("created_at", _INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("channel", name="pk_outbox_channels"),
    )
    op.create_table(
        "outbox_deliveries",
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", _INSTANT),
        sa.Column("leased_until", _INSTANT),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("delivered_at", _INSTANT),
        sa.PrimaryKeyConstraint("channel", "seq", name="pk_outbox_deliveries"),
        sa.ForeignKeyConstraint(
            ["seq"], ["booking_events.seq"], name="fk_outbox_deliveries_seq_booking_events"
        ),
    )
    guarantee = _POSTGRES_GUARANTEE if op.get_bind().dialect.name == "postgresql" else _SQLITE_GUARANTEE
    for statement in guarantee:
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("the booking schema only moves forward; restore a backup instead")
