"""PostgreSQL announces every change to a practitioner's bookings and to practitioners.

`booking_changes` and `practitioner_changes` carry the practitioner's id. Each process LISTENs
(booking_adapters.sql.changes) and drops what it cached: the practitioner's availability, and on
a practitioner change the practitioner too. Triggers rather than the adapter's own statements: they
cost no extra round trip, and they also cover writes made outside this code (an operator's SQL, a
restore). PostgreSQL delivers a notification at commit, once per distinct payload and transaction. SQLite
has no equivalent; nothing is created there.

Revision ID: 0002_change_notifications
Revises: 0001_initial
"""

from __future__ import annotations

from alembic import op

revision = "0002_change_notifications"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

# booking_adapters.sql.changes listens on both
BOOKINGS_CHANNEL = "booking_changes"
PRACTITIONERS_CHANNEL = "practitioner_changes"


def _announcing(function: str, channel: str, id_column: str) -> str:
    """A trigger function announcing the practitioner of each changed row (old and new, if moved)."""
    return f"""CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'DELETE' THEN
            PERFORM pg_notify('{channel}', NEW.{id_column});
        END IF;
        IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.{id_column} <> NEW.{id_column}) THEN
            PERFORM pg_notify('{channel}', OLD.{id_column});
        END IF;
        RETURN NULL;
    END $$"""


_UPGRADE = [
    _announcing("announce_booking_change", BOOKINGS_CHANNEL, "practitioner_id"),
    """CREATE TRIGGER bookings_announce_change AFTER INSERT OR UPDATE OR DELETE ON bookings
        FOR EACH ROW EXECUTE FUNCTION announce_booking_change()""",
    _announcing("announce_practitioner_change", PRACTITIONERS_CHANNEL, "id"),
    """CREATE TRIGGER practitioners_announce_change AFTER INSERT OR UPDATE OR DELETE ON practitioners
        FOR EACH ROW EXECUTE FUNCTION announce_practitioner_change()""",
]
_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS practitioners_announce_change ON practitioners",
    "DROP FUNCTION IF EXISTS announce_practitioner_change()",
    "DROP TRIGGER IF EXISTS bookings_announce_change ON bookings",
    "DROP FUNCTION IF EXISTS announce_booking_change()",
]


def _on_postgresql(statements: list[str]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in statements:
            op.execute(statement)


def upgrade() -> None:
    _on_postgresql(_UPGRADE)


def downgrade() -> None:
    _on_postgresql(_DOWNGRADE)
