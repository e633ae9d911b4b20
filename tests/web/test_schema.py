"""booking_web.schema: JSON Schema from attrs classes, as the converter reads and writes them."""

from __future__ import annotations

import inspect
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

import attrs
import pytest
from attrs import field, frozen
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from booking_core.client import MAX_NAME_LENGTH, MAX_PHONE_LENGTH
from booking_web import answers
from booking_web.converter import json_converter
from booking_web.errors import ErrorDetailJson, ErrorJson
from booking_web.openapi import ANSWERS, SCHEMAS
from booking_web.schema import Schema, component_schemas, keywords


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


@frozen
class Inner:
    size: int = field(metadata=keywords(minimum=1, maximum=9))


@frozen
class Outer:
    """An example for readers."""

    colour: Colour
    inner: Inner
    note: str | None = None
    tags: list[str] = field(factory=list)
    counts: dict[str, int] = field(factory=dict)
    when: datetime = datetime(2030, 1, 7)
    day: date = date(2030, 1, 7)
    ratio: float = 0.5
    flag: bool = False
    kind: Literal[Colour.RED, "other"] = "other"


def _schemas(*, closed: bool = True) -> dict[str, Schema]:
    named = {"Outer": Outer, "Inner": Inner}
    return (
        component_schemas(answers=named, requests={})
        if closed
        else component_schemas(answers={}, requests=named)
    )


def test_an_enum_becomes_the_values_of_its_members() -> None:
    assert _schemas()["Outer"]["properties"]["colour"] == {"type": "string", "enum": ["red", "blue"]}


def test_a_literal_lists_its_values_and_enum_members_by_value() -> None:
    assert _schemas()["Outer"]["properties"]["kind"] == {"type": "string", "enum": ["red", "other"]}


def test_an_optional_is_nullable_and_a_default_makes_a_field_optional() -> None:
    outer = _schemas()["Outer"]
    assert outer["properties"]["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert outer["required"] == ["colour", "inner"]


def test_a_nested_class_is_a_reference_to_its_own_component() -> None:
    schemas = _schemas()
    assert schemas["Outer"]["properties"]["inner"] == {"$ref": "#/components/schemas/Inner"}
    assert schemas["Inner"]["required"] == ["size"]


def test_a_nested_class_without_a_component_name_is_refused() -> None:
    with pytest.raises(TypeError, match="Inner is nested in an API class"):
        component_schemas(answers={"Outer": Outer}, requests={})


def test_a_limit_comes_from_the_field_metadata() -> None:
    assert _schemas()["Inner"]["properties"]["size"] == {"type": "integer", "minimum": 1, "maximum": 9}


def test_scalars_lists_and_maps() -> None:
    properties = _schemas()["Outer"]["properties"]
    assert properties == properties | {
        "tags": {"type": "array", "items": {"type": "string"}},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        "when": {"type": "string", "format": "date-time"},
        "day": {"type": "string", "format": "date"},
        "ratio": {"type": "number"},
        "flag": {"type": "boolean"},
    }


def test_answers_are_closed_and_requests_open() -> None:
    assert _schemas()["Outer"]["additionalProperties"] is False
    assert "additionalProperties" not in _schemas(closed=False)["Outer"]


def test_the_docstring_describes_the_object() -> None:
    assert _schemas()["Outer"]["description"] == "An example for readers."
    assert "description" not in _schemas()["Inner"]


def test_a_union_of_two_types_is_refused() -> None:
    @frozen
    class Either:
        value: int | str

    with pytest.raises(TypeError, match=r"Only X \| None unions"):
        component_schemas(answers={"Either": Either}, requests={})


def test_what_the_converter_writes_validates_against_the_generated_schema() -> None:
    document = {"components": {"schemas": _schemas()}}
    registry: Registry[Any] = Registry().with_resource(
        "urn:example", Resource.from_contents(document, default_specification=DRAFT202012)
    )
    validator = Draft202012Validator({"$ref": "urn:example#/components/schemas/Outer"}, registry=registry)
    written = json_converter.unstructure(Outer(Colour.BLUE, Inner(3), note="n", tags=["a"]))
    validator.validate(written)
    assert "flag" not in written  # left at its default, so not sent: the schema does not require it
    assert not validator.is_valid(written | {"extra": 1})


# -- the API's own classes ------------------------------------------------------------------------


def test_the_request_limits_are_the_validators_constants() -> None:
    properties = SCHEMAS["BookingRequest"]["properties"]
    assert (properties["name"]["minLength"], properties["name"]["maxLength"]) == (1, MAX_NAME_LENGTH)
    assert (properties["phone"]["minLength"], properties["phone"]["maxLength"]) == (1, MAX_PHONE_LENGTH)
    assert "additionalProperties" not in SCHEMAS["BookingRequest"]  # extra keys are ignored, not refused


def test_every_answer_class_is_described() -> None:
    defined = {
        cls
        for _, cls in inspect.getmembers(answers, inspect.isclass)
        if attrs.has(cls) and cls.__module__ == answers.__name__
    }
    assert defined | {ErrorJson, ErrorDetailJson} == set(ANSWERS.values())
    assert all(SCHEMAS[name]["additionalProperties"] is False for name in ANSWERS)
