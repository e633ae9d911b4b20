"""The code blocks of docs/embedding.md, for the tests that run them: ```python blocks run in order in
one namespace (each builds on the ones before), ```python <file name> blocks are files to write."""

from __future__ import annotations

import re
from pathlib import Path

EMBEDDING = Path(__file__).parents[1] / "docs" / "embedding.md"
_BLOCK = re.compile(r"^```python([^\n]*)\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def python_blocks() -> list[str]:
    """The blocks to run, in the order the page shows them."""
    return [code for info, code in _BLOCK.findall(EMBEDDING.read_text()) if not info.strip()]


def python_files() -> dict[str, str]:
    """The blocks that are files, by name."""
    return {info.strip(): code for info, code in _BLOCK.findall(EMBEDDING.read_text()) if info.strip()}
