"""attrs values compared field by field, each field named by its path (`offer.price.amount`).

The round-trip contracts use these to say which field an adapter lost, and to check that their
samples give every optional field a value other than its default: a field left at its default
would round-trip through an adapter that forgets it (a forgotten column reads back as the default),
so a sample that sets every field is what makes the contract catch a forgotten column. Both walk
the fields themselves (`attrs.fields`), so a field added later is checked without anyone listing it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import attrs


def _items(value: object) -> Iterator[tuple[str, object]]:
    """(path suffix, nested value) for the values inside `value`: attrs fields, container elements."""
    cls = type(value)
    if attrs.has(cls):
        for field in attrs.fields(cls):
            yield f".{field.name}", getattr(value, field.name)
    elif isinstance(value, tuple | list):
        for index, element in enumerate(value):
            yield f"[{index}]", element
    elif isinstance(value, Mapping):
        for key, element in value.items():
            yield f"[{key!r}]", element


def differing_fields(expected: object, actual: object, path: str = "") -> dict[str, tuple[object, object]]:
    """{path: (expected, actual)} for each place where `actual` differs from `expected`, at the deepest
    level (`offer.price.amount` rather than `offer`); empty when they are equal."""
    if type(expected) is not type(actual):
        return {path or "the value": (expected, actual)} if expected != actual else {}
    expected_items, actual_items = dict(_items(expected)), dict(_items(actual))
    if not expected_items or expected_items.keys() != actual_items.keys():
        return {} if expected == actual else {path or "the value": (expected, actual)}
    found: dict[str, tuple[object, object]] = {}
    for suffix, element in expected_items.items():
        found.update(differing_fields(element, actual_items[suffix], f"{path}{suffix}".lstrip(".")))
    return found


def _default(field: attrs.Attribute[Any], owner: object) -> object:
    default: Any = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]  # a class at run time
        return default.factory(owner) if default.takes_self else default.factory()
    return default


def fields_left_at_default(*samples: object) -> list[str]:
    """The fields with a default (of the samples, and of the attrs values inside them: nested fields,
    container elements) that no occurrence in any sample sets to anything else. Paths leave out
    container indices (`schedule.overrides[].hours`): one override with hours covers the field; and
    one state of a booking's life covers a field that a later state sets back to its default."""
    optional: set[str] = set()
    changed: set[str] = set()

    def walk(current: object, path: str) -> None:
        cls = type(current)
        if attrs.has(cls):
            for field in attrs.fields(cls):
                field_path = f"{path}.{field.name}".lstrip(".")
                element = getattr(current, field.name)
                if field.default is not attrs.NOTHING:
                    optional.add(field_path)
                    if element != _default(field, current):
                        changed.add(field_path)
                walk(element, field_path)
        elif isinstance(current, tuple | list):
            for element in current:
                walk(element, f"{path}[]")
        elif isinstance(current, Mapping):
            for element in current.values():
                walk(element, f"{path}[]")

    for sample in samples:
        walk(sample, "")
    return sorted(optional - changed)
