"""Reminders (issue 17 item 1): the reminders sent, one row per (booking, start, offset, channel)
once claimed, and an index of confirmed bookings by start (the sessions ahead whose reminders may
be due). Nothing is planned ahead: reminders are derived from the bookings (booking_core.reminders).

Revision ID: 0012_reminder_deliveries
Revises: 0011_booking_limits
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_reminder_deliveries"
down_revision = "0011_booking_limits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reminder_deliveries",
        sa.Column("booking_id", sa.String(64), nullable=False),
        sa.Column("slot_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offset_seconds", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("leased_until", sa.DateTime(timezone=True)),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint(
            "booking_id", "slot_start", "offset_seconds", "channel", name="pk_reminder_deliveries"
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name="fk_reminder_deliveries_booking_id_bookings"
        ),
    )
    op.create_index(
        "ix_bookings_confirmed_start",
        "bookings",
        ["slot_start"],
        postgresql_where=sa.text("status = 'confirmed'"),
        sqlite_where=sa.text("status = 'confirmed'"),
    )


def downgrade() -> None:
    op.drop_index("ix_bookings_confirmed_start", table_name="bookings")
    op.drop_table("reminder_deliveries")
