"""Schemathesis over the whole /openapi.json, over the fakes and the embedded default (ASGI, no
network): every operation with generated and negative data, then stateful sequences that follow
the document's links (create a booking -> read it -> cancel it). Checks: no 5xx, answers as
documented (status code, content type, schema)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.testclient import TestClient

from tests.fuzz.stacks import CLIENT, embedded_app, memory_app

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def bookable_document(document: dict[str, Any], free_starts: list[str]) -> dict[str, Any]:
    """The served document (links included) with booking requests narrowed to bookable values, so
    that sequences get past creation (random names, e-mails and times are the other tests' job),
    and without the operations that need a practitioner's API token: a sequence has none, so each
    of them answers 401 and only crowds out the linked steps (the operation tests cover them)."""
    bookable = {"practitioner_id": ["jane-doe"], "start": free_starts} | {k: [v] for k, v in CLIENT.items()}
    properties = document["components"]["schemas"]["BookingRequest"]["properties"]
    for name, values in bookable.items():
        properties[name] = {"type": "string", "enum": values}
    document["paths"] = {
        path: operations
        for path, operations in document["paths"].items()
        if not all("security" in operation for operation in operations.values())
    }
    return document


def _served(tmp_path_factory: pytest.TempPathFactory, kind: str) -> Any:
    """An app whose lifespan schemathesis runs (and keeps for the session, as it does for any app)."""
    tmp = tmp_path_factory.mktemp(f"schemathesis-{kind}")
    return memory_app(tmp)[0] if kind == "memory" else embedded_app(tmp)[0]


@pytest.fixture(scope="module")
def memory_served(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return _served(tmp_path_factory, "memory")


@pytest.fixture(scope="module")
def embedded_served(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return _served(tmp_path_factory, "embedded")


@pytest.fixture(scope="module")
def memory_schema(memory_served: Any) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", memory_served)


@pytest.fixture(scope="module")
def embedded_schema(embedded_served: Any) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", embedded_served)


OPERATIONS = hypothesis.settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
)
KINDS = ["memory", "embedded"]


def _operations(loaded: Any) -> list[Any]:
    return [result.ok() for result in loaded.get_all_operations()]


# The operations are looped over here: schemathesis.pytest.from_fixture() fails on this pytest
# ('Function' object has no attribute '_nodeid'), and a module-level schema would build the apps
# (and migrate a SQLite file) at collection time.
@pytest.mark.parametrize("mode", list(GenerationMode))
@pytest.mark.parametrize("kind", KINDS)
def test_every_operation_answers_as_documented(
    kind: str, mode: GenerationMode, request: pytest.FixtureRequest
) -> None:
    operations = _operations(request.getfixturevalue(f"{kind}_schema"))
    assert len(operations) >= 10  # the whole document

    for operation in operations:

        @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
        @OPERATIONS
        def answers_as_documented(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=CHECKS)

        try:
            answers_as_documented()
        except hypothesis.errors.Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # nothing to get wrong: no parameters, no body


@pytest.mark.parametrize("kind", KINDS)
def test_linked_sequences_answer_as_documented(kind: str, request: pytest.FixtureRequest) -> None:
    served = request.getfixturevalue(f"{kind}_served")
    loaded = request.getfixturevalue(f"{kind}_schema")
    direct = TestClient(served)  # no `with`: the app's lifespan is schemathesis's
    served_document = direct.get("/openapi.json").json()
    linked = schemathesis.openapi.from_dict(bookable_document(served_document, _free_starts(loaded)))
    linked.app = served
    statuses: Counter[tuple[str, int]] = Counter()
    held: list[dict[str, Any]] = []

    class Sequences(linked.as_state_machine()):  # type: ignore[misc]
        def after_call(self, response: Any, case: schemathesis.Case) -> None:
            statuses[(f"{case.method} {case.operation.path}", response.status_code)] += 1
            if case.operation.path == "/api/bookings" and response.status_code == 201:
                held.append(response.json())

        def validate_response(self, response: Any, case: schemathesis.Case, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

        def teardown(self) -> None:
            # Free this run's slots: each run starts from the same state, as hypothesis expects.
            while held:
                booking = held.pop()
                direct.post(
                    f"/api/bookings/{booking['id']}/cancel", json={"cancel_token": booking["cancel_token"]}
                )

    Sequences.run(
        settings=hypothesis.settings(
            max_examples=25,
            stateful_step_count=5,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )
    assert statuses[("POST /api/bookings", 201)], statuses  # sequences got past creation
    assert (
        statuses[("GET /api/bookings/{booking_id}", 200)]
        + statuses[("POST /api/bookings/{booking_id}/cancel", 200)]
    ), statuses  # and followed a link to the booking they made


def _free_starts(loaded: Any) -> list[str]:
    operation = loaded["/api/practitioners/{practitioner_id}/availability"]["GET"]
    case = operation.Case(path_parameters={"practitioner_id": "jane-doe"}, query={"timezone": "UTC"})
    return [slot["start"] for slot in case.call().json()["slots"]]
