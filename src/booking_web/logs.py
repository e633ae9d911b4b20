"""JSON logs, one object a line, each carrying the id of the request it belongs to.

Personal data stays out by construction: the access log records method, route template and status
(never query strings, which carry cancel tokens), and the core logs booking ids only.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def _at_least(level: str, floor: str) -> str:
    return level if logging.getLevelName(level) >= logging.getLevelName(floor) else floor


def log_config(level: str) -> dict[str, Any]:
    """A logging.config dict for the service and uvicorn (given to uvicorn, so every worker uses it)."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            }
        },
        "handlers": {"stderr": handler},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": [], "propagate": False},  # ours has no query strings
            "alembic": {"level": "WARNING"},  # the readiness probe asks Alembic on every call
            # Their DEBUG lines carry personal data whatever LOG_LEVEL asks: aiosqlite every
            # statement's parameters, stripe every request body (the client's e-mail), httpx and
            # httpcore the URLs (webhook URLs may carry credentials) and traffic of every call.
            "aiosqlite": {"level": _at_least(level, "INFO")},
            "stripe": {"level": _at_least(level, "INFO")},
            "httpx": {"level": _at_least(level, "WARNING")},
            "httpcore": {"level": _at_least(level, "WARNING")},
        },
    }
