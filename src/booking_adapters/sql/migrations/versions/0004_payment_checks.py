"""Released holds whose checkout Stripe has not yet called expired and unpaid (filled in by the change that needs it; empty until then).

Revision ID: 0004_payment_checks
Revises: 0003_practitioner_email
"""

from __future__ import annotations

revision = "0004_payment_checks"
down_revision = "0003_practitioner_email"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
