"""Practitioners keep their e-mail address (filled in by the change that needs it; empty until then).

Revision ID: 0003_practitioner_email
Revises: 0002_change_notifications
"""

from __future__ import annotations

revision = "0003_practitioner_email"
down_revision = "0002_change_notifications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
