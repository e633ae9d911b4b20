"""Alembic's entry point. `booking_adapters.sql.migrate` hands over an open connection; there is no
alembic.ini and no offline mode."""

from __future__ import annotations

from alembic import context

from booking_adapters.sql.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
)
with context.begin_transaction():
    context.run_migrations()
