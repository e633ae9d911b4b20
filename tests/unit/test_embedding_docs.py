"""docs/embedding.md: its examples run as written, and its store example proves a store with one
subclass of the shipped contracts."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path

from tests.embedding_docs import python_blocks, python_files

CORE_EXAMPLE_MAX_LINES = 32  # "about 20 lines" of code, with its imports


def test_the_core_example_books_and_pays_in_a_few_lines() -> None:
    core = python_blocks()[0]
    code = [line for line in core.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert len(code) <= CORE_EXAMPLE_MAX_LINES
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(core, "docs/embedding.md", "exec"), {"__name__": "docs_example"})
    assert printed.getvalue().split() == ["confirmed"]


def test_the_asgi_example_answers_slots_and_refusals() -> None:
    namespace: dict[str, object] = {"__name__": "docs_example"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for block in python_blocks():
            exec(compile(block, "docs/embedding.md", "exec"), namespace)
    lines = printed.getvalue().splitlines()
    assert lines[1] == "200"
    assert lines[2] == """(404, {'code': 'not_found', 'message': "There is no practitioner 'nobody'."})"""


def test_the_store_example_runs_the_contracts(tmp_path: Path) -> None:
    (name, code), *_ = python_files().items()
    (tmp_path / name).write_text(code)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "failed" not in run.stdout
