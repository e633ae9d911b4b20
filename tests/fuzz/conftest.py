"""One stack per adapter set, shared by a module's examples (building one per example would spend
the time budget on set-up); tests that need a fresh or differently configured stack build their own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fuzz.stacks import STACKS, Stack


@pytest.fixture(scope="module", params=sorted(STACKS))
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with STACKS[request.param](tmp_path_factory.mktemp(request.param)) as running:
        yield running
