"""What a booking request was made with: the Idempotency-Key's body hash, the client's address (filled in by the change that needs it; empty until then).

Revision ID: 0005_request_limits
Revises: 0004_payment_checks
"""

from __future__ import annotations

revision = "0005_request_limits"
down_revision = "0004_payment_checks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
