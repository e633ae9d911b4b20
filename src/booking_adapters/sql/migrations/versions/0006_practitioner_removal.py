"""Practitioners can be removed (`booking practitioners remove`): the row stays, with `removed_at`.

Revision ID: 0006_practitioner_removal
Revises: 0005_request_limits
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_practitioner_removal"
down_revision = "0005_request_limits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("practitioners", sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("practitioners") as table:  # SQLite drops columns by copying the table
        table.drop_column("removed_at")
