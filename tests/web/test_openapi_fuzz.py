"""Schemathesis drives every documented operation: no server errors, answers as documented."""

from __future__ import annotations

from pathlib import Path

import hypothesis
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from booking_adapters.memory import (
    FakePaymentGateway,
    ManualClock,
    MemoryBookingStore,
    MemoryDirectory,
    SequentialIds,
)
from booking_web.app import create_app
from booking_web.bootstrap import assemble
from booking_web.demo import DEMO_PRACTITIONERS
from booking_web.settings import Settings
from tests.web.conftest import TEST_CLIENT_URL


def _app() -> object:
    container = assemble(
        Settings(
            data_dir=Path("unused"),
            booking_rate_limit_per_minute=10_000,
            public_base_url=TEST_CLIENT_URL,
            hold_limit_per_client=10_000,  # one client holds whatever the fuzzer books
            hold_limit_practitioner_share=1.0,
        ),
        directory=MemoryDirectory.of(DEMO_PRACTITIONERS),
        store=MemoryBookingStore(),
        payments=FakePaymentGateway(),
        ids=SequentialIds(),
        clock=ManualClock(),
    )
    return create_app(container)


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@schema.parametrize()
@hypothesis.settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
)
def test_the_api_answers_as_documented(case: schemathesis.Case) -> None:
    case.call_and_validate(
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ]
    )
