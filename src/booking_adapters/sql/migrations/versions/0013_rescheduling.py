"""Rescheduling (issue 16): how often a booking moved, and where from and to each move went.

`bookings.reschedule_count` (0 for every booking before: none moved). The history event of a move
(trigger `rescheduled`) keeps the slot before and after it in four nullable columns of
`booking_events`, NULL for every other trigger. A move itself needs no new guarantee: the update of a
live row's occupied span is checked by the exclusion constraint (PostgreSQL, migration 0001) or the
overlap trigger (SQLite), and by the time-off trigger (migration 0009), which all fire on a change of
`occupied_start`/`occupied_end`.

Revision ID: 0013_rescheduling
Revises: 0012_reminder_deliveries
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_rescheduling"
down_revision = "0012_reminder_deliveries"
branch_labels = None
depends_on = None

_INSTANT = sa.DateTime(timezone=True)
_MOVE_COLUMNS = ("moved_from_start", "moved_from_end", "moved_to_start", "moved_to_end")


def upgrade() -> None:
    # ADD COLUMN alters in place on both databases (no table copy: SQLite's triggers stay)
    op.add_column("bookings", sa.Column("reschedule_count", sa.Integer, nullable=False, server_default="0"))
    for name in _MOVE_COLUMNS:
        op.add_column("booking_events", sa.Column(name, _INSTANT, nullable=True))


def downgrade() -> None:
    # DROP COLUMN alters in place too (SQLite 3.35+), keeping the triggers on `bookings`
    for name in reversed(_MOVE_COLUMNS):
        op.drop_column("booking_events", name)
    op.drop_column("bookings", "reschedule_count")
