"""Fixtures of the metrics tests: the example app served under two workers."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from helpers import served_by_uvicorn
from todo_app.migrations import upgrade

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def served_example(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """``serve(**env)``: the example app under ``uvicorn --workers 2``, its address.

    On a migrated SQLite database, memory backends, multiprocess metrics and limits
    out of the way; ``env`` adds or overrides variables.
    """
    with ExitStack() as servers:

        def serve(**env: str) -> str:
            database = f"sqlite+aiosqlite:///{tmp_path / 'todo.db'}"
            upgrade(database)
            shared = tmp_path / "metrics"
            shared.mkdir()
            variables = {
                **os.environ,
                "DATABASE_URL": database,
                "SECRET_KEY": "metrics-example-secret-0123456789-abcdef",
                "PROMETHEUS_MULTIPROC_DIR": str(shared),
                "RATE_LIMIT_DEFAULT": "100000/minute",
                "RATE_LIMIT_AUTH": "100000/minute",
                "LOG_LEVEL": "WARNING",
                **env,
            }
            for unset in {"METRICS_TOKEN", "REDIS_URL"} - set(env):  # memory, no token
                variables.pop(unset, None)
            return servers.enter_context(
                served_by_uvicorn(
                    "todo_app.main:app",
                    app_dir=ROOT / "examples",
                    env=variables,
                    workers=2,
                    cwd=tmp_path,
                )
            )

        yield serve
