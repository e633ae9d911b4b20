"""A move of an unpaid hold replaces its Checkout Session with one naming the new time: the
replaced sessions' ids, so that a payment made on one of them still counts for the booking.

`bookings.replaced_checkouts`: space-separated Checkout Session ids, oldest first; NULL for every
booking before (none was replaced).

Revision ID: 0015_replaced_checkouts
Revises: 0014_attendance
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_replaced_checkouts"
down_revision = "0014_attendance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN alters in place on both databases (no table copy: SQLite's triggers stay)
    op.add_column("bookings", sa.Column("replaced_checkouts", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("bookings", "replaced_checkouts")
