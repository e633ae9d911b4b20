"""The bare `booking-engine` package brings booking_core and the in-memory adapters only; each other
adapter's libraries come with an extra. Importing one whose extra is missing says which to install."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable

_OURS = frozenset({"booking_core", "booking_adapters", "booking_web"})


class MissingExtra(ModuleNotFoundError):
    """A library an adapter needs is not installed; the message names the `pip install` command."""


def _missing(package: str, module: str, extras: tuple[str, ...]) -> MissingExtra:
    commands = " or ".join(f"pip install 'booking-engine[{extra}]'" for extra in extras)
    return MissingExtra(
        f"{package} needs the {module} package, which the bare booking-engine leaves out: {commands}",
        name=module,
    )


def missing_extra(error: ModuleNotFoundError, package: str, *extras: str) -> ModuleNotFoundError:
    """What to raise when importing `package` failed with `error`: a library from outside, named
    with the pip command of each of `extras`; a module of our own, as it was (a bug, not a choice)."""
    root = (error.name or "").partition(".")[0]
    return error if not root or root in _OURS else _missing(package, root, extras)


def require(package: str, modules: Iterable[str], *extras: str) -> None:
    """Raise MissingExtra, naming `extras`, unless every one of `modules` can be imported."""
    for module in modules:
        if importlib.util.find_spec(module) is None:
            raise _missing(package, module, extras)
