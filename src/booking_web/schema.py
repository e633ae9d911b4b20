"""JSON Schema (2020-12, as OpenAPI 3.1 uses it) of the attrs classes the JSON converter reads and
writes. Types say most of it; what they cannot (limits, formats, words) comes from each field's
metadata, which points at the constants the validators use. Answers are closed
(`additionalProperties: false`); request bodies stay open, as the converter ignores extra keys."""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any, Literal, Union

import attrs

Schema = dict[str, Any]

SCHEMA_METADATA = "json_schema"  # the attrs metadata key under which a field keeps its keywords


def keywords(**schema: object) -> dict[str, object]:
    """Field metadata adding JSON Schema keywords to what the type says:
    `name: str = field(metadata=keywords(maxLength=MAX_NAME_LENGTH))`."""
    return {SCHEMA_METADATA: schema}


def component_schemas(*, answers: Mapping[str, type], requests: Mapping[str, type]) -> dict[str, Schema]:
    """`#/components/schemas` for every named class. A nested class must be named too: it becomes a
    `$ref` to its own component."""
    names = {cls: name for name, cls in (*answers.items(), *requests.items())}
    return {name: _object(cls, names, closed=cls in answers.values()) for cls, name in names.items()}


def _object(cls: type, names: Mapping[type, str], *, closed: bool) -> Schema:
    hints = typing.get_type_hints(cls)
    properties = {}
    for field in attrs.fields(cls):
        properties[field.name] = _type(hints[field.name], names) | field.metadata.get(SCHEMA_METADATA, {})
    schema: Schema = {"type": "object"}
    if cls.__doc__:  # written for the API's readers
        schema["description"] = " ".join(cls.__doc__.split())
    schema["required"] = [field.name for field in attrs.fields(cls) if field.default is attrs.NOTHING]
    schema["properties"] = properties
    if closed:
        schema["additionalProperties"] = False
    return schema


_SCALARS: dict[object, Schema] = {
    str: {"type": "string"},
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    float: {"type": "number"},  # JSON numbers; a whole one may be written without a fraction
    datetime: {"type": "string", "format": "date-time"},
    date: {"type": "string", "format": "date"},
}


def _type(hint: Any, names: Mapping[type, str]) -> Schema:
    if hint in _SCALARS:
        return dict(_SCALARS[hint])
    origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        present = [argument for argument in arguments if argument is not type(None)]
        if len(present) != 1:
            raise TypeError(f"Only X | None unions describe a JSON value, not {hint}")
        return {"anyOf": [_type(present[0], names), {"type": "null"}]}
    if origin is Literal:
        return _enum([value.value if isinstance(value, Enum) else value for value in arguments])
    if origin is list:
        return {"type": "array", "items": _type(arguments[0], names)}
    if origin is dict and arguments[0] is str:
        return {"type": "object", "additionalProperties": _type(arguments[1], names)}
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _enum([member.value for member in hint])
    if attrs.has(hint):
        if hint not in names:
            raise TypeError(f"{hint.__name__} is nested in an API class: give it a component name")
        return {"$ref": f"#/components/schemas/{names[hint]}"}
    raise TypeError(f"No JSON Schema for {hint}")


def _enum(values: list[object]) -> Schema:
    json_types = {_SCALARS[type(value)]["type"] for value in values}
    return ({"type": json_types.pop()} if len(json_types) == 1 else {}) | {"enum": values}
