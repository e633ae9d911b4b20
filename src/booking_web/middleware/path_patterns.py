"""Middleware that applies to some routes names them by path patterns (regular expressions of whole paths)."""

from __future__ import annotations

import re


def any_of(paths: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern that fully matches any of `paths` (use `fullmatch`)."""
    return re.compile("|".join(f"(?:{path})" for path in paths))
