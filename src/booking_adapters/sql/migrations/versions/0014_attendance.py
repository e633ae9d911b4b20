"""Completed and no-show (issue 17 item 2): two more booking statuses, and the partial index by
which housekeeping finds confirmed sessions whose slot ended (`BookingStore.sessions_ended`).

The status CHECK constraint names every status. PostgreSQL replaces it in place; on SQLite the
table's stored definition is edited (see `_replace_status_check`): its rows, indexes, triggers (the
no-overlap and time-off guarantees) and the rows that reference it stay as they are.

Revision ID: 0014_attendance
Revises: 0013_rescheduling
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_attendance"
down_revision = "0013_rescheduling"
branch_labels = None
depends_on = None

_BEFORE = "'pending_payment', 'confirmed', 'expired', 'cancelled', 'refund_due', 'refunded'"
_AFTER = f"{_BEFORE}, 'completed', 'no_show'"
_CHECK = "ck_bookings_ck_bookings_status"  # 0001's name under the naming convention
_CONFIRMED = sa.text("status = 'confirmed'")


def upgrade() -> None:
    _replace_status_check(_BEFORE, _AFTER)
    op.create_index(
        "ix_bookings_sessions_ended",
        "bookings",
        ["slot_end"],
        postgresql_where=_CONFIRMED,
        sqlite_where=_CONFIRMED,
    )


def downgrade() -> None:
    op.drop_index("ix_bookings_sessions_ended", "bookings")
    # a session recorded since goes back to what it was before: confirmed
    op.execute("UPDATE bookings SET status = 'confirmed' WHERE status IN ('completed', 'no_show')")
    _replace_status_check(_AFTER, _BEFORE)


def _replace_status_check(before: str, after: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute(
            f"ALTER TABLE bookings DROP CONSTRAINT {_CHECK}, "
            f"ADD CONSTRAINT {_CHECK} CHECK (status IN ({after}))"
        )
        return
    # SQLite cannot alter a constraint. Copying the table would drop it under the rows of
    # reminder_deliveries that reference it; SQLite's documented way for a change that leaves every
    # stored row valid (a CHECK that accepts more) is to edit the table's definition in its schema.
    connection = op.get_bind()
    old_check, new_check = f"status IN ({before})", f"status IN ({after})"
    table_sql = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'bookings'"
    ).scalar_one()
    if table_sql.count(old_check) != 1:
        raise RuntimeError("the bookings table's status constraint is not the one this migration replaces")
    version = connection.exec_driver_sql("PRAGMA schema_version").scalar_one()
    connection.exec_driver_sql("PRAGMA writable_schema = ON")
    connection.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'bookings'",
        (table_sql.replace(old_check, new_check),),
    )
    connection.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")  # others re-read it
    connection.exec_driver_sql("PRAGMA writable_schema = OFF")
    problems = connection.exec_driver_sql("PRAGMA quick_check").scalars().all()
    if problems != ["ok"]:
        raise RuntimeError(f"the database is not sound after widening the status constraint: {problems}")
