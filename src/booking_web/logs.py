"""Logs, one line a record, each carrying the id of the request it belongs to: readable text on a
terminal, JSON objects for log shippers (LOG_FORMAT chooses; `auto` asks whether stderr is a terminal).

Personal data stays out by construction: the access log records method, route template and status
(never query strings, which carry cancel tokens), and the core logs booking ids only.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any, Literal, TextIO

LogFormat = Literal["json", "text"]
LOG_FORMATS = ("auto", "json", "text")

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


# What every LogRecord has; anything else on a record came as `extra` (or from a filter).
_STANDARD_FIELDS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's copy of the message with terminal colours
    "taskName",
    "request_id",  # shown first, by TextFormatter itself
}


class TextFormatter(logging.Formatter):
    """`2030-01-07 08:00:00 INFO  booking_web.access: GET /api/practitioners 200  request_id=...`:
    time, level, logger, message, then the record's extra fields as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-5s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", "-")
        fields = {"request_id": request_id} if request_id != "-" else {}  # first: what ties lines together
        fields |= {key: value for key, value in record.__dict__.items() if key not in _STANDARD_FIELDS}
        if not fields:
            return line
        head, newline, trace = line.partition("\n")  # the traceback, if any, stays below the fields
        extra = " ".join(f"{key}={value}" for key, value in fields.items())
        return f"{head}  {extra}{newline}{trace}"


def chosen_format(setting: str, stream: TextIO) -> LogFormat:
    """LOG_FORMAT's `json` or `text`; `auto`: text on a terminal, JSON otherwise."""
    if setting == "json":
        return "json"
    if setting == "text":
        return "text"
    return "text" if stream.isatty() else "json"


def _at_least(level: str, floor: str) -> str:
    return level if logging.getLevelName(level) >= logging.getLevelName(floor) else floor


def log_config(level: str, log_format: LogFormat = "json") -> dict[str, Any]:
    """A logging.config dict for the service and uvicorn (given to uvicorn, so every worker uses it),
    writing `log_format` lines to stderr."""
    handler = {"class": "logging.StreamHandler", "formatter": log_format, "filters": ["request_id"]}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            },
            "text": {"()": TextFormatter},
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
