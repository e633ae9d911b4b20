"""What a booking request was made with: the client's network address while its hold is pending
(for the per-address cap of unpaid holds), and the SHA-256 of the request an Idempotency-Key made
(only the same request replays the booking); docs/security.md.

Revision ID: 0005_request_limits
Revises: 0004_payment_checks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_request_limits"
down_revision = "0004_payment_checks"
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both databases (SQLite adds and, since 3.35, drops columns in place): a batch
# copy of the table would drop the SQLite triggers that forbid overlapping live bookings.


def upgrade() -> None:
    op.add_column("bookings", sa.Column("client_address", sa.String(64)))
    op.add_column("bookings", sa.Column("request_hash", sa.String(64)))


def downgrade() -> None:
    op.drop_column("bookings", "request_hash")
    op.drop_column("bookings", "client_address")
