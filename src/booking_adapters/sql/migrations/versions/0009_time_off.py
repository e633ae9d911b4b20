"""Practitioners' time off (issue 15 item 4), under the same guarantee as two bookings: the database
refuses a live booking whose occupied span overlaps the practitioner's time off, whoever writes it.

A trigger on `bookings` checks each row that becomes live (inserted live, made live again by a late
payment, or moved) against `time_off`. The other direction, time off over live bookings, is the
adapter's check when it adds time off (booking_adapters.sql.time_off), in the same transaction:
- SQLite writes one transaction at a time, so the trigger and that check cannot interleave.
- PostgreSQL: the trigger takes a shared transaction-level advisory lock on the practitioner
  (namespace LOCK_NAMESPACE, key hashtext(practitioner id)) before reading `time_off`; adding time off
  takes the same lock exclusively before reading `bookings`. Bookings never wait for each other here
  (shared), but a booking and a time off of one practitioner are serialised: whichever takes the lock
  second waits for the first to commit and then reads what it wrote (a PL/pgSQL statement takes a
  fresh snapshot under READ COMMITTED). Refused with SQLSTATE 23P01, as the exclusion constraint
  refuses an overlapping booking. Changes to time off are announced on `booking_changes`, as changes
  to bookings are (migration 0002), so that every process voids its cached availability.

Revision ID: 0009_time_off
Revises: 0008_practitioner_credentials
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_time_off"
down_revision = "0008_practitioner_credentials"
branch_labels = None
depends_on = None

LOCK_NAMESPACE = 9  # booking_adapters.sql.time_off.TIME_OFF_LOCK_NAMESPACE takes the same lock
_LIVE = "'confirmed', 'pending_payment'"
_INSTANT = sa.DateTime(timezone=True)

# A row that becomes live, or a live row that moves: what may newly meet time off.
_BECOMES_LIVE = f"""NEW.status IN ({_LIVE}) AND (
    OLD.status NOT IN ({_LIVE}) OR OLD.practitioner_id <> NEW.practitioner_id
    OR OLD.occupied_start <> NEW.occupied_start OR OLD.occupied_end <> NEW.occupied_end)"""
_IN_TIME_OFF = """EXISTS (
    SELECT 1 FROM time_off
    WHERE time_off.practitioner_id = NEW.practitioner_id
      AND time_off.span_end > NEW.occupied_start AND time_off.span_start < NEW.occupied_end)"""

_POSTGRES_UPGRADE = [
    f"""CREATE FUNCTION refuse_booking_in_time_off() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_advisory_xact_lock_shared({LOCK_NAMESPACE}, hashtext(NEW.practitioner_id));
        IF {_IN_TIME_OFF} THEN
            RAISE EXCEPTION 'booking_overlap: the practitioner has time off then'
                USING ERRCODE = 'exclusion_violation';
        END IF;
        RETURN NEW;
    END $$""",
    f"""CREATE TRIGGER bookings_time_off_insert BEFORE INSERT ON bookings FOR EACH ROW
        WHEN (NEW.status IN ({_LIVE})) EXECUTE FUNCTION refuse_booking_in_time_off()""",
    f"""CREATE TRIGGER bookings_time_off_update
        BEFORE UPDATE OF status, practitioner_id, occupied_start, occupied_end ON bookings FOR EACH ROW
        WHEN ({_BECOMES_LIVE}) EXECUTE FUNCTION refuse_booking_in_time_off()""",
    """CREATE TRIGGER time_off_announce_change AFTER INSERT OR UPDATE OR DELETE ON time_off
        FOR EACH ROW EXECUTE FUNCTION announce_booking_change()""",
]
_POSTGRES_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS time_off_announce_change ON time_off",
    "DROP TRIGGER IF EXISTS bookings_time_off_update ON bookings",
    "DROP TRIGGER IF EXISTS bookings_time_off_insert ON bookings",
    "DROP FUNCTION IF EXISTS refuse_booking_in_time_off()",
]
# SQLite: the same check in the trigger's WHEN; the write transaction is the only one.
_SQLITE_UPGRADE = [
    f"""CREATE TRIGGER bookings_time_off_insert BEFORE INSERT ON bookings
        WHEN NEW.status IN ({_LIVE}) AND {_IN_TIME_OFF}
        BEGIN SELECT RAISE(ABORT, 'booking_overlap'); END""",
    f"""CREATE TRIGGER bookings_time_off_update
        BEFORE UPDATE OF status, practitioner_id, occupied_start, occupied_end ON bookings
        WHEN {_BECOMES_LIVE} AND {_IN_TIME_OFF}
        BEGIN SELECT RAISE(ABORT, 'booking_overlap'); END""",
]
_SQLITE_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS bookings_time_off_update",
    "DROP TRIGGER IF EXISTS bookings_time_off_insert",
]


def upgrade() -> None:
    op.create_table(
        "time_off",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("practitioner_id", sa.String(64), nullable=False),
        sa.Column("span_start", _INSTANT, nullable=False),
        sa.Column("span_end", _INSTANT, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", _INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_time_off"),
        sa.CheckConstraint("span_start < span_end", name="ck_time_off_span_not_empty"),
    )
    op.create_index("ix_time_off_practitioner_id_span_end", "time_off", ["practitioner_id", "span_end"])
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in _POSTGRES_UPGRADE if postgresql else _SQLITE_UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in _POSTGRES_DOWNGRADE if postgresql else _SQLITE_DOWNGRADE:
        op.execute(statement)
    op.drop_index("ix_time_off_practitioner_id_span_end", table_name="time_off")
    op.drop_table("time_off")
