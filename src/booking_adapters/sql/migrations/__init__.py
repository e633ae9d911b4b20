"""Alembic migrations of the booking schema (a package so that the wheel ships them)."""
