"""Services per practitioner (issue 14): the practitioner's list of services, and on each booking
the service it was made for (id and name as they were; its length is the slot's, its price the
booking's price).

Services are a JSON column of the practitioner's row, like its offer and schedule: they are written
and read with the practitioner as a whole (the directory replaces whole practitioners and caches
them whole) and never queried on their own; a booking keeps its own copy of what it needs, so no
booking refers to a service row that could change or vanish.

Existing practitioners get an empty list, which means the one service `session` of their offer's
session length and price (`Practitioner.offered_services`), the same rule that serves a practitioner
file without services; existing bookings become bookings of `session`.

Revision ID: 0007_services
Revises: 0006_practitioner_removal
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0007_services"
down_revision = "0006_practitioner_removal"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json = sa.JSON().with_variant(JSONB(), "postgresql")
    op.add_column("practitioners", sa.Column("services", json, nullable=False, server_default="[]"))
    # Plain ALTER TABLE on bookings: a batch copy would drop SQLite's no-overlap triggers (see 0005).
    op.add_column(
        "bookings", sa.Column("service_id", sa.String(64), nullable=False, server_default="session")
    )
    op.add_column(
        "bookings", sa.Column("service_name", sa.String(200), nullable=False, server_default="Session")
    )


def downgrade() -> None:
    op.drop_column("bookings", "service_name")
    op.drop_column("bookings", "service_id")
    with op.batch_alter_table("practitioners") as table:  # no triggers on this table
        table.drop_column("services")
