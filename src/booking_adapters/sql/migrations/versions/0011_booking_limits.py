"""Booking limits (issue 14 item 5): a practitioner's `max_bookings_per_day` and
`max_bookings_per_week`, as a JSON column of their row like their offer and services (a service's own
limits travel inside the services column, where a service stored before reads as having none).

Existing practitioners get `{}`: no limits. Nothing on `bookings` changes: a limit counts live
bookings by their slot's start, in the transaction that adds one (booking_adapters.sql.booking_limits).

Revision ID: 0011_booking_limits
Revises: 0010_calendar_feeds
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0011_booking_limits"
down_revision = "0010_calendar_feeds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json = sa.JSON().with_variant(JSONB(), "postgresql")
    op.add_column("practitioners", sa.Column("limits", json, nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("practitioners") as table:  # no triggers on this table
        table.drop_column("limits")
