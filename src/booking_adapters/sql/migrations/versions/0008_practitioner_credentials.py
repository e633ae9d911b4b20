"""Practitioners sign in (issue 15): their one-time sign-in links, sessions and API tokens, each
stored as the SHA-256 of its secret, never the secret itself.

Revision ID: 0008_practitioner_credentials
Revises: 0007_services
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_practitioner_credentials"
down_revision = "0007_services"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "practitioner_credentials",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("practitioner_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("token_hash", name="pk_practitioner_credentials"),
    )
    op.create_index(
        "ix_practitioner_credentials_practitioner_id_kind",
        "practitioner_credentials",
        ["practitioner_id", "kind"],
    )
    op.create_index("ix_practitioner_credentials_expires_at", "practitioner_credentials", ["expires_at"])


def downgrade() -> None:
    op.drop_table("practitioner_credentials")
