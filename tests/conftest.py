"""Shared fixtures: real Redis/PostgreSQL servers (the services package) and test hygiene."""

from __future__ import annotations

import logging
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from helpers import LogCapture

# redis_server, redis_url, postgres_server, postgres_url: see services/fixtures.py.
pytest_plugins = ("services.fixtures",)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="session")
def _outside_the_checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Run from an empty directory: a developer's ``.env`` or ``todo.db`` stays out of tests."""
    checkout = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("cwd"))
    yield
    os.chdir(checkout)


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory whose ``dist/`` holds what ``make dist`` builds, by the same command."""
    recipe = re.search(r"^dist:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    assert recipe is not None
    [build] = [line.strip() for line in recipe.group(1).splitlines() if " build " in line]
    command = [sys.executable, *shlex.split(build.replace("$(PY)", ""))]
    assert command[-3:] == ["--outdir", "dist", "."]
    directory = tmp_path_factory.mktemp("build")
    subprocess.run(
        [*command[:-2], str(directory / "dist"), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return directory


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Undo logging configuration made by a test (structlog's and the stdlib's)."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    saved_loggers = {
        name: (logging.getLogger(name).handlers[:], logging.getLogger(name).propagate)
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
    }
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    root.handlers, root.level = saved
    for name, (handlers, propagate) in saved_loggers.items():
        logger = logging.getLogger(name)
        logger.handlers, logger.propagate = handlers, propagate


@pytest.fixture
def logs() -> LogCapture:
    """The kit's logging configured as JSON into a buffer the test can read."""
    return LogCapture()
