"""Bookings released without the payment provider's word that their checkout is closed unpaid.

`payment_check_due` is set when a lapsed hold is released by a new booking (or a late payment) in
its way, or a pending booking is cancelled, before Stripe has said the session is expired and
unpaid; reconciliation (`booking payments reconcile`) asks Stripe about each and clears it. The
partial index keeps that query cheap while almost every row has it false.

Revision ID: 0004_payment_checks
Revises: 0003_practitioner_email
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_payment_checks"
down_revision = "0003_practitioner_email"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "bookings",
        sa.Column("payment_check_due", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    due = sa.text("payment_check_due")
    op.create_index(
        "ix_bookings_payment_checks_due",
        "bookings",
        ["updated_at"],
        postgresql_where=due,
        sqlite_where=due,
    )


def downgrade() -> None:
    op.drop_index("ix_bookings_payment_checks_due", table_name="bookings")
    op.drop_column("bookings", "payment_check_due")  # SQLite 3.35+ drops it in place, triggers kept
