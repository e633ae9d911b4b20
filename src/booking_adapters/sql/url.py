"""Database URLs as people write them, turned into the drivers this adapter uses.

PostgreSQL goes through psycopg 3: one driver that speaks both sync (Alembic migrations) and async
(the service), ships binary wheels, and exposes SQLSTATE codes, which is how conflicts are told
apart (23P01 exclusion violation, 40P01 deadlock). SQLite goes through aiosqlite for the async
engine and the standard library's sqlite3 for migrations; both read the same file.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

_ASYNC_DRIVERS = {"postgresql": "postgresql+psycopg", "sqlite": "sqlite+aiosqlite"}
_SYNC_DRIVERS = {"postgresql": "postgresql+psycopg", "sqlite": "sqlite+pysqlite"}
_ALIASES = {"postgres": "postgresql", "postgresql": "postgresql", "sqlite": "sqlite"}


def _parse(url: str) -> tuple[URL, str]:
    """The URL and its backend ("postgresql" or "sqlite"), whatever driver it named."""
    if url.startswith("postgres://"):  # Heroku-style; SQLAlchemy only knows "postgresql"
        url = "postgresql://" + url.removeprefix("postgres://")
    parsed = make_url(url)
    backend = _ALIASES.get(parsed.get_backend_name())
    if backend is None:
        raise ValueError(
            f"unsupported database {parsed.get_backend_name()!r}: use postgresql://... or sqlite:///path.db"
        )
    return parsed, backend


def database_url(url: str) -> str:
    """The SQLAlchemy async URL for `url`: postgresql+psycopg or sqlite+aiosqlite."""
    return _with_driver(url, _ASYNC_DRIVERS)


def migration_url(url: str) -> str:
    """The synchronous URL Alembic migrates through (same database, sync driver)."""
    return _with_driver(url, _SYNC_DRIVERS)


def _with_driver(url: str, drivers: dict[str, str]) -> str:
    parsed, backend = _parse(url)
    if is_sqlite_memory(url):
        return f"{drivers[backend]}:///:memory:"
    return parsed.set(drivername=drivers[backend]).render_as_string(hide_password=False)


def backend_of(url: str) -> str:
    return _parse(url)[1]


def is_sqlite_memory(url: str) -> bool:
    parsed, backend = _parse(url)
    return backend == "sqlite" and parsed.database in (None, "", ":memory:")
