"""Practitioners keep their e-mail address, where the e-mail channel sends them notice of bookings.

`booking practitioners import` has always read it, but no column held it, so on SQLite and
PostgreSQL every practitioner read back without one and heard of no booking. Practitioners stored
before this revision get NULL: import them again to set their address.

Revision ID: 0003_practitioner_email
Revises: 0002_change_notifications
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_practitioner_email"
down_revision = "0002_change_notifications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("practitioners", sa.Column("email", sa.String(320)))


def downgrade() -> None:
    # batch: SQLite before 3.35 cannot drop a column in place
    with op.batch_alter_table("practitioners") as table:
        table.drop_column("email")
