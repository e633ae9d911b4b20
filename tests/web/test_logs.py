"""Log lines: readable text on a terminal, JSON lines otherwise; LOG_FORMAT forces either."""

from __future__ import annotations

import io
import json
import logging
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from booking_web.logs import RequestIdFilter, TextFormatter, chosen_format, log_config, request_id_var
from booking_web.settings import ConfigurationError, Settings
from tests.serving import booking_serve, free_port, wait_until_ready

TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (DEBUG|INFO |WARNING|ERROR) [\w.]+: .+")
ACCESS_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO  booking_web\.access: GET /api/practitioners 200  "
    r"request_id=[0-9a-f]{16} status=200 route=/api/practitioners duration_ms=[\d.]+\r?$",
    re.MULTILINE,
)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_auto_is_text_on_a_terminal_and_json_otherwise() -> None:
    assert chosen_format("auto", _Terminal()) == "text"
    assert chosen_format("auto", io.StringIO()) == "json"
    assert chosen_format("json", _Terminal()) == "json"
    assert chosen_format("text", io.StringIO()) == "text"


def test_an_unknown_log_format_is_a_problem() -> None:
    assert Settings.from_env({"LOG_FORMAT": "TEXT"}).log_format == "text"
    with pytest.raises(ConfigurationError, match="LOG_FORMAT 'yaml' is not one of auto, json, text"):
        Settings.from_env({"LOG_FORMAT": "yaml"})


def test_a_text_line_has_time_level_logger_message_and_the_extra_fields() -> None:
    assert log_config("INFO", "text")["formatters"]["text"]["()"] is TextFormatter
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("booking_web.test_logs")
    logger.addHandler(handler)
    token = request_id_var.set("0123456789abcdef")
    try:
        logger.warning("GET %s %d", "/api/practitioners", 200, extra={"status": 200, "duration_ms": 1.5})
        try:
            raise RuntimeError("broken")
        except RuntimeError:
            logger.exception("unexpected error %s", "e1")
    finally:
        request_id_var.reset(token)
        logger.removeHandler(handler)
    first, second, *trace = stream.getvalue().splitlines()
    assert TEXT_LINE.match(first)
    assert first.endswith(
        "WARNING booking_web.test_logs: GET /api/practitioners 200  "
        "request_id=0123456789abcdef status=200 duration_ms=1.5"
    )
    assert second.endswith("ERROR booking_web.test_logs: unexpected error e1  request_id=0123456789abcdef")
    assert trace[0] == "Traceback (most recent call last):" and trace[-1] == "RuntimeError: broken"


def _serve_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STRIPE_", "DATABASE_URL", "BOOKING_", "PUBLIC_BASE_URL", "LOG_"))
    }
    return env | {"BOOKING_DATA_DIR": str(tmp_path / "var"), "NO_PROXY": "127.0.0.1,localhost", **extra}


def test_serve_writes_json_lines_when_not_on_a_terminal(tmp_path: Path) -> None:
    with booking_serve([], _serve_env(tmp_path), tmp_path) as base:
        httpx.get(f"{base}/api/practitioners")
    lines = (tmp_path / "server.log").read_text().splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    access = [
        r for r in records if r["logger"] == "booking_web.access" and r["route"] == "/api/practitioners"
    ]
    assert access and set(access[0]) >= {"time", "level", "logger", "message", "request_id", "status"}
    assert not any(TEXT_LINE.match(line) for line in lines)


def test_log_format_text_forces_text_lines(tmp_path: Path) -> None:
    with booking_serve([], _serve_env(tmp_path, LOG_FORMAT="text"), tmp_path) as base:
        httpx.get(f"{base}/api/practitioners")
    log = (tmp_path / "server.log").read_text()
    assert ACCESS_LINE.search(log), log
    assert not any(line.startswith("{") for line in log.splitlines())


def test_serve_on_a_terminal_writes_readable_lines(tmp_path: Path) -> None:
    port = free_port()
    terminal, its_end = pty.openpty()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("booking")), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=_serve_env(tmp_path),
        stdin=subprocess.DEVNULL,
        stdout=its_end,
        stderr=its_end,
    )
    os.close(its_end)
    output = b""

    def read_for(seconds: float) -> str:
        nonlocal output
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and select.select([terminal], [], [], 0.1)[0]:
            try:
                output += os.read(terminal, 65536)
            except OSError:  # the server closed its end
                break
        return output.decode(errors="replace")

    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(base, server, lambda: read_for(0.1))
        httpx.get(f"{base}/api/practitioners")
        for _ in range(50):
            if ACCESS_LINE.search(read_for(0.1)):
                break
    finally:
        server.terminate()
        server.wait(timeout=15)
        os.close(terminal)
    text = output.decode(errors="replace")
    assert ACCESS_LINE.search(text), text
    assert not any(line.startswith("{") for line in text.splitlines())  # no JSON line anywhere
