"""Where each key of a TOML text is written, for messages that name a line (tomllib keeps none).

A line scanner, not a parser: the text has already parsed with tomllib, so it only needs to follow
table headers and `key =` lines. Keys are indexed per entry of one array of tables
(`[[practitioners]]`, entry 1, 2, ...; entry 0 is everything outside it) by their path inside the
entry: `weekly.mon` is ("weekly", "mon") whether written under `[practitioners.weekly]` or as a
dotted key. Arrays of tables inside an entry count their own tables from 1: the `id` of the
second `[[practitioners.services]]` is ("services", "2", "id"). Keys inside inline tables and
multi-line arrays are not indexed: `line_of` then answers with the line of the nearest enclosing
key it knows.
"""

from __future__ import annotations

import re

_KEY = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_PATH = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_ARRAY_HEADER = re.compile(rf"^\s*\[\[\s*({_PATH})\s*\]\]")
_TABLE_HEADER = re.compile(rf"^\s*\[\s*({_PATH})\s*\]")
_ASSIGNMENT = re.compile(rf"^\s*({_PATH})\s*=")
_PART = re.compile(_KEY)


def _parts(path: str) -> tuple[str, ...]:
    return tuple(part.strip("\"'") for part in _PART.findall(path))


class KeyLines:
    """Line numbers (1-based) of the keys in `text`, per entry of the array of tables `array`."""

    def __init__(self, text: str, array: str) -> None:
        self._lines: dict[tuple[int, tuple[str, ...]], int] = {}
        entry, prefix, in_string = 0, tuple[str, ...](), False
        inner_counts: dict[tuple[str, ...], int] = {}  # tables so far of each array inside the entry
        for number, line in enumerate(text.splitlines(), start=1):
            starts_or_ends_a_string = (line.count('"""') + line.count("'''")) % 2 == 1
            if in_string:  # a line of a multi-line string: no key here
                in_string = not starts_or_ends_a_string
                continue
            in_string = starts_or_ends_a_string
            if header := _ARRAY_HEADER.match(line):
                path = _parts(header.group(1))
                if path == (array,):
                    entry, prefix = entry + 1, ()
                    inner_counts.clear()
                    continue
                if path[0] == array and entry:
                    inner = path[1:]
                    inner_counts[inner] = inner_counts.get(inner, 0) + 1
                    path = prefix = (*inner, str(inner_counts[inner]))
                else:
                    entry, prefix = 0, path
            elif header := _TABLE_HEADER.match(line):
                path = _parts(header.group(1))
                entry, prefix = (entry, path[1:]) if path[0] == array and entry else (0, path)
            elif assignment := _ASSIGNMENT.match(line):
                path = (*prefix, *_parts(assignment.group(1)))
            else:
                continue
            for end in range(1, len(path) + 1):  # a dotted key or header also defines its parents
                self._lines.setdefault((entry, path[:end]), number)

    def line_of(self, entry: int, path: tuple[str, ...]) -> int | None:
        """The line of `path` in `entry` (0: outside the array), else of its nearest known parent."""
        for end in range(len(path), 0, -1):
            if (found := self._lines.get((entry, path[:end]))) is not None:
                return found
        return None
