"""`pip install booking-engine` without extras: a fresh virtualenv gets the core and the memory
adapters and runs docs/embedding.md's first example, without starlette, sqlalchemy, stripe or httpx;
an adapter whose extra is missing names the pip command. Builds the wheel from a copy of the
sources (setuptools builds in the tree it is given). Packages come from pip's configured indexes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.embedding_docs import python_blocks

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).parents[2]
STEP_SECONDS = 120  # each of build, venv, install, run; together well under two minutes here
NOT_IN_THE_CORE = ("starlette", "sqlalchemy", "stripe", "httpx", "uvicorn", "psycopg", "alembic", "cattrs")


def _run(command: Sequence[str | Path], cwd: Path) -> str:
    done = subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=STEP_SECONDS
    )
    assert done.returncode == 0, f"{command}: {done.stdout[-2000:]}{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def bare_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the bare wheel installed (versions pinned as requirements.lock pins them)."""
    work = tmp_path_factory.mktemp("packaging")
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", work / "dist", source], work)
    (wheel,) = (work / "dist").glob("booking_engine-*.whl")
    _run([sys.executable, "-m", "venv", work / "venv"], work)
    python = work / "venv" / "bin" / "python"
    _run([python, "-m", "pip", "install", "-q", "-c", ROOT / "requirements.lock", wheel], work)
    return python


def test_the_bare_package_runs_the_docs_example(bare_venv: Path, tmp_path: Path) -> None:
    example = tmp_path / "example.py"
    example.write_text(python_blocks()[0])
    assert _run([bare_venv, example], tmp_path).split() == ["confirmed"]


def test_the_bare_package_brings_no_server_orm_or_provider_sdk(bare_venv: Path, tmp_path: Path) -> None:
    listed = json.loads(_run([bare_venv, "-m", "pip", "list", "--format=json"], tmp_path))
    installed = {package["name"].lower() for package in listed}
    assert "booking-engine" in installed
    assert not installed & set(NOT_IN_THE_CORE), installed


@pytest.mark.parametrize(
    ("module", "command"),
    [
        (
            "booking_adapters.sql",
            "pip install 'booking-engine[postgres]' or pip install 'booking-engine[sqlite]'",
        ),
        ("booking_adapters.stripe", "pip install 'booking-engine[stripe]'"),
        ("booking_adapters.calcom", "pip install 'booking-engine[calcom]'"),
        ("booking_adapters.mail", "pip install 'booking-engine[mail]'"),
        ("booking_web.cli", "pip install 'booking-engine[server]'"),
    ],
)
def test_an_adapter_without_its_extra_names_the_pip_command(
    bare_venv: Path, tmp_path: Path, module: str, command: str
) -> None:
    tried = subprocess.run(
        [str(bare_venv), "-c", f"import {module}"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert tried.returncode == 1
    last = tried.stderr.strip().splitlines()[-1]
    assert last.startswith("booking_adapters.extras.MissingExtra: ") and last.endswith(command), last
