"""/openapi.json is a valid OpenAPI 3.1 document whose operation ids and links hold together.
(That every answer matches its schema is tests/fuzz/test_openapi_schemathesis.py's job.)"""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest
import schemathesis
from jsonschema import Draft202012Validator
from starlette.testclient import TestClient

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture
def document(memory_client: TestClient) -> dict[str, Any]:
    served: dict[str, Any] = memory_client.get("/openapi.json").json()
    return served


def _operations(document: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every operation by its id, with its path."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                assert operation["operationId"] not in found, operation["operationId"]
                found[operation["operationId"]] = (path, operation)
    return found


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    schemathesis.openapi.from_dict(document).validate()  # against the OpenAPI 3.1 meta-schema
    broken = document | {"info": {"title": "no version"}}
    with pytest.raises(jsonschema_rs.ValidationError, match="version"):
        schemathesis.openapi.from_dict(broken).validate()


def test_every_component_is_a_valid_json_schema(document: dict[str, Any]) -> None:
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def test_every_operation_has_its_own_id(document: dict[str, Any]) -> None:
    operations = _operations(document)
    count = sum(len(set(item) & HTTP_METHODS) for item in document["paths"].values())
    assert len(operations) == count
    assert {"createBooking", "getBooking", "cancelBooking"} <= set(operations)


def test_links_name_operations_and_their_parameters(document: dict[str, Any]) -> None:
    operations = _operations(document)
    links = [
        link
        for _, operation in operations.values()
        for response in operation["responses"].values()
        for link in response.get("links", {}).values()
    ]
    assert {link["operationId"] for link in links} == {"getBooking", "cancelBooking"}
    for link in links:
        _, target = operations[link["operationId"]]
        parameters = {parameter["name"] for parameter in target.get("parameters", [])}
        assert set(link["parameters"]) <= parameters
