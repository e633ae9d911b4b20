"""Calendar feeds (issue 15 item 5): each practitioner's feed key, one row each. The token in the
feed's address is a keyed hash of the practitioner's id and `generation` under the server's secret;
the row keeps its SHA-256 (unique: a request is looked up by it), never the token.

Revision ID: 0010_calendar_feeds
Revises: 0009_time_off
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_calendar_feeds"
down_revision = "0009_time_off"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_feeds",
        sa.Column("practitioner_id", sa.String(64), nullable=False),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("practitioner_id", name="pk_calendar_feeds"),
        sa.UniqueConstraint("token_hash", name="uq_calendar_feeds_token_hash"),
    )


def downgrade() -> None:
    op.drop_table("calendar_feeds")
