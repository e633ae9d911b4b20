"""Stripe's OpenAPI excerpt (tests/specs/stripe, kept in the repository) as jsonschema validators.

OpenAPI 3.0 is not quite JSON Schema: `nullable` becomes `anyOf [..., null]`, and a `$ref` to a
schema the excerpt left out is an opaque object.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SPEC = Path(__file__).resolve().parents[2] / "specs" / "stripe" / "stripe-reduced.openapi.json"
_REF = "#/components/schemas/"


def spec() -> dict[str, Any]:
    return _load(SPEC)


@cache
def _load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def validator(schema_name: str) -> Draft202012Validator:
    schemas = spec()["components"]["schemas"]
    defs = {name: _json_schema(schema, schemas) for name, schema in schemas.items()}
    return Draft202012Validator({"$ref": f"#/$defs/{schema_name}", "$defs": defs})


def create_session_parameters() -> set[str]:
    body = spec()["paths"]["/v1/checkout/sessions"]["post"]["requestBody"]
    return set(body["content"]["application/x-www-form-urlencoded"]["schema"]["properties"])


def _json_schema(node: Any, schemas: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_json_schema(item, schemas) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].removeprefix(_REF)
        return {"$ref": f"#/$defs/{name}"} if name in schemas else {"type": "object"}
    converted = {key: _json_schema(value, schemas) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted
