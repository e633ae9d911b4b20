"""What a deployment exposes beyond the booking flow: proxy trust, /metrics, the Host header, secrets
in reprs and start-up errors, and the modes of the files in the data directory."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from starlette.testclient import TestClient

from booking_adapters.memory import FakePaymentGateway, ManualClock, MemoryBookingStore, MemoryDirectory
from booking_adapters.stripe import LocalTestGateway
from booking_adapters.system import SecureIds
from booking_web.app import create_app
from booking_web.bootstrap import assemble, check_startup
from booking_web.demo import DEMO_PRACTITIONERS
from booking_web.settings import ConfigurationError, Settings
from tests.serving import booking_serve
from tests.web.conftest import memory_builder
from tests.web.embedded import book_and_pay, environment, eventually, next_weekday, serving, started

METRICS_TOKEN = "metrics-token-" + "m" * 32
PRODUCTION = {
    "host": "0.0.0.0",
    "public_base_url": "https://book.example.org",
    "stripe_secret_key": "sk_test_fake_deploy",
    "stripe_webhook_secret": "whsec_fake_deploy",
}
PUBLIC_HOST = {"Host": "book.example.org"}


def _client(settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(settings, build=memory_builder(ManualClock(), FakePaymentGateway()))
    with TestClient(app, base_url=settings.public_base_url) as client:
        yield client


@pytest.fixture
def production(tmp_path: Path) -> Iterator[TestClient]:
    yield from _client(Settings(data_dir=tmp_path, metrics_token=METRICS_TOKEN, **PRODUCTION), tmp_path)


# -- proxy headers ---------------------------------------------------------------------------------


def _serve_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STRIPE_", "DATABASE_URL", "BOOKING_", "PUBLIC_BASE_URL", "FORWARDED_"))
    }
    return env | {
        "BOOKING_DATA_DIR": str(tmp_path / "var"),
        "BOOKING_RATE_LIMIT_PER_MINUTE": "1",
        "NO_PROXY": "127.0.0.1,localhost",
        **extra,
    }


def _statuses_with_forged_addresses(base: str) -> list[int]:
    return [
        httpx.post(f"{base}/api/bookings", json={}, headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
        for n in (1, 2)
    ]


def test_a_local_client_cannot_pick_its_rate_limit_bucket_with_x_forwarded_for(tmp_path: Path) -> None:
    with booking_serve([], _serve_env(tmp_path), tmp_path) as base:
        assert _statuses_with_forged_addresses(base)[1] == 429


def test_forwarded_addresses_count_once_the_proxy_is_trusted(tmp_path: Path) -> None:
    with booking_serve([], _serve_env(tmp_path, FORWARDED_ALLOW_IPS="127.0.0.1"), tmp_path) as base:
        assert 429 not in _statuses_with_forged_addresses(base)


# -- /metrics --------------------------------------------------------------------------------------


def test_metrics_need_the_token(production: TestClient) -> None:
    assert production.get("/metrics").status_code == 401
    wrong = production.get("/metrics", headers={"Authorization": "Bearer " + "x" * 46})
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"] == "Bearer"
    right = production.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert right.status_code == 200 and "http_requests_total" in right.text


def test_metrics_are_closed_outside_development_mode_without_a_token(tmp_path: Path) -> None:
    for client in _client(Settings(data_dir=tmp_path, **PRODUCTION), tmp_path):
        assert client.get("/metrics").status_code == 403


def test_metrics_are_open_in_development_mode_without_a_token(tmp_path: Path) -> None:
    for client in _client(Settings(data_dir=tmp_path, public_base_url="http://testserver"), tmp_path):
        assert client.get("/metrics").status_code == 200


def test_a_short_metrics_token_is_a_problem() -> None:
    with pytest.raises(ConfigurationError, match="METRICS_TOKEN"):
        Settings.from_env({"METRICS_TOKEN": "short"})


# -- Host ------------------------------------------------------------------------------------------


def test_a_forged_host_header_cannot_rewrite_links(production: TestClient) -> None:
    forged = production.get("/book/jane-doe", headers={"Host": "evil.example"})
    assert forged.status_code == 400
    assert "evil.example" not in forged.text
    assert production.get("/book/jane-doe", headers={"Host": "127.0.0.1:8000"}).status_code == 400
    page = production.get("/book/jane-doe", headers=PUBLIC_HOST)
    assert page.status_code == 200 and "https://book.example.org/" in page.text


def test_probes_answer_whatever_the_host(production: TestClient) -> None:
    # Orchestrators probe by address (Host: 10.0.0.7:8000)
    assert production.get("/healthz", headers={"Host": "10.0.0.7:8000"}).status_code == 200
    assert production.get("/readyz", headers={"Host": "10.0.0.7:8000"}).status_code == 200


def test_development_mode_also_answers_on_localhost(tmp_path: Path) -> None:
    for client in _client(Settings(data_dir=tmp_path), tmp_path):
        for host in ("127.0.0.1:8000", "localhost:8000"):
            assert client.get("/", headers={"Host": host}).status_code == 200
        assert client.get("/", headers={"Host": "evil.example"}).status_code == 400


# -- secrets ---------------------------------------------------------------------------------------


def test_no_secret_is_in_a_repr(tmp_path: Path) -> None:
    secrets = {
        "booking_secret_key": "booking-secret-" + "b" * 32,
        "stripe_secret_key": "sk_live_fake_repr_secret",
        "stripe_webhook_secret": "whsec_fake_repr_secret",
        "database_url": "postgresql://booking:db-password-repr@db.example/booking",
        "metrics_token": "metrics-token-repr-" + "t" * 32,
        "webhook_secret": "whsec_fake_outgoing_" + "w" * 32,
    }
    settings = Settings(**secrets)  # type: ignore[arg-type]
    container = assemble(
        settings,
        directory=MemoryDirectory.of(DEMO_PRACTITIONERS),
        store=MemoryBookingStore(),
        payments=FakePaymentGateway(),
        ids=SecureIds(b"ids-secret-repr"),
        secret="container-secret-repr",
    )
    shown = [
        repr(settings),
        repr(container),
        repr(SecureIds(b"ids-secret-repr")),
        repr(LocalTestGateway("whsec_local_repr_secret", "http://127.0.0.1:8000")),
    ]
    for secret in (*secrets.values(), "db-password-repr", "ids-secret-repr", "container-secret-repr"):
        for text in shown:
            assert secret not in text
    assert "whsec_local_repr_secret" not in shown[3]


@pytest.mark.parametrize(
    ("url", "fragments"),
    [
        ("postgresql://booking:p@ss@127.0.0.1:1/booking", ("p@ss", "ss@127")),
        ("postgresql://booking:s3cret-pw@127.0.0.1:1/booking", ("s3cret-pw",)),
        ("postgresql://booking:s3cret%40pw@127.0.0.1:1/booking", ("s3cret", "%40pw")),
    ],
)
def test_no_database_password_is_shown_in_a_startup_error(
    url: str, fragments: tuple[str, ...], tmp_path: Path
) -> None:
    env = {"DATABASE_URL": url, "BOOKING_SECRET_KEY": "k" * 40, "BOOKING_DATA_DIR": str(tmp_path)}
    with pytest.raises(ConfigurationError) as caught:
        anyio.run(check_startup, env)
    for fragment in fragments:
        assert fragment not in str(caught.value)
    assert "DATABASE_URL" in str(caught.value)


# -- files -----------------------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_directory_and_what_holds_client_data_are_private(tmp_path: Path) -> None:
    settings = started(environment(tmp_path / "var"))
    with serving(settings) as client:
        book_and_pay(client, "jane-doe", next_weekday(0))
        assert eventually(lambda: any(settings.mailbox_dir.glob("*.eml")))
    assert _mode(settings.data_dir) == 0o700
    assert _mode(settings.mailbox_dir) == 0o700
    database_files = list(settings.data_dir.glob("booking.db*"))
    assert settings.sqlite_path in database_files
    for path in [*database_files, *settings.mailbox_dir.glob("*.eml")]:
        assert _mode(path) == 0o600, path
