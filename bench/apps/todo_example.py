"""Bench app: the example todo service itself, with one user and their 20 todos.

``examples/`` must be on ``PYTHONPATH`` (the harness sets it). A fresh SQLite file is
migrated and filled before the server starts; ``/bench-token`` answers a token of the
user. The default rate limit is raised out of reach (it is still checked).
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path

import otlp_sink
from fastapi.responses import PlainTextResponse
from pydantic import SecretStr

from fastapi_kit.accounts import email_key
from todo_app.dependencies import AuthDep
from todo_app.main import create_app
from todo_app.migrations import upgrade
from todo_app.settings import Settings

DATABASE = Path(tempfile.mkdtemp(prefix="kit-bench-todo-")) / "todo.db"


def prepare() -> None:
    """Migrate the database and add the user (id 1) with 20 todos."""
    upgrade(f"sqlite+aiosqlite:///{DATABASE}")
    now = datetime.now(UTC).isoformat(sep=" ")
    with sqlite3.connect(DATABASE) as connection:
        connection.execute(
            "INSERT INTO users (id, email, email_key, password_hash, roles, is_active, "
            "created_at, updated_at) VALUES (1, 'bench@example.com', ?, '!', "
            "'[\"user\"]', 1, ?, ?)",
            (email_key("bench@example.com"), now, now),
        )
        connection.executemany(
            "INSERT INTO todos (owner_id, title, description, done, created_at, updated_at) "
            "VALUES (1, ?, 'Something to do, described in a sentence or two.', ?, ?, ?)",
            [(f"Todo {n}", n % 3 == 0, now, now) for n in range(20)],
        )


# Alembic runs its own event loop: outside the server's, in a thread. A failure stops
# the server from starting, rather than leaving it to answer every request with 404.
failures: list[Exception] = []


def _prepare_or_record() -> None:
    try:
        prepare()
    except Exception as exc:  # noqa: BLE001  # re-raised below, in the importing thread
        failures.append(exc)


migration = threading.Thread(target=_prepare_or_record)
migration.start()
migration.join()
if failures:
    raise failures[0]

if os.environ.get("BENCH_TRACING") == "otlp":
    # The kit's tracing on, exporting over OTLP/HTTP to a sink in another process.
    os.environ["OTEL_TRACES_EXPORTER"] = "otlp"
    os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp_sink.start()
    os.environ.setdefault("OTEL_SERVICE_NAME", "todo-bench")

settings = Settings(
    database_url=SecretStr(f"sqlite+aiosqlite:///{DATABASE}"),
    secret_key=SecretStr("bench-secret-0123456789-0123456789-abc"),
    rate_limit_default="1000000000/minute",
)
app = create_app(settings)


@app.get("/bench-token", response_class=PlainTextResponse)
async def bench_token(auth: AuthDep) -> str:
    """A valid token of the user, for the load generator."""
    return auth.tokens.issue_pair("1", ["user"]).access_token
