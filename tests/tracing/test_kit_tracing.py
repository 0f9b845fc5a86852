"""Tracing through ``Kit``: the example app's request, its SQL, its log lines, one trace."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import SecretStr

from fastapi_kit import Kit, KitSettings
from fastapi_kit.testing import app_client
from fastapi_kit.tracing import Tracing, TracingMiddleware, add_trace_ids
from helpers import LogCapture
from todo_app.main import create_app
from todo_app.migrations import upgrade
from todo_app.settings import Settings

PASSWORD = "correct horse battery"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


async def test_the_example_apps_request_its_queries_and_its_logs_share_one_trace(
    tmp_path: Path, tracing: Tracing, spans: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'todo.db'}"
    await asyncio.to_thread(upgrade, database)
    settings = Settings(
        database_url=SecretStr(database),
        secret_key=SecretStr("tracing-test-secret-0123456789-abcdef"),
        gc_freeze=False,
    )
    # The example's create_app makes its Kit: give it this Tracing when it installs.
    real_install = Kit.install

    def install_with_tracing(kit: Kit, app: object, **options: object) -> object:
        kit.use_tracing(tracing)
        return real_install(kit, app, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(Kit, "install", install_with_tracing)
    app = create_app(settings)
    logs = LogCapture(processors=(add_trace_ids,))  # as install configured it, in a buffer
    async with app_client(app) as client:
        await client.post(
            "/api/v1/auth/register", json={"email": "ada@example.com", "password": PASSWORD}
        )
        tokens = (
            await client.post(
                "/api/v1/auth/token", data={"username": "ada@example.com", "password": PASSWORD}
            )
        ).json()
        spans.clear()
        answer = await client.get(
            "/api/v1/todos/1",
            headers={
                "authorization": f"Bearer {tokens['access_token']}",
                "traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01",
            },
        )
    assert answer.status_code == 404
    finished = spans.get_finished_spans()
    server = next(s for s in finished if s.name == "GET /api/v1/todos/{todo_id}")
    assert server.attributes is not None
    assert server.attributes["http.route"] == "/api/v1/todos/{todo_id}"
    assert server.attributes["http.response.status_code"] == 404
    queries = [
        s for s in finished if s.parent is not None and s.parent.span_id == server.context.span_id
    ]
    assert queries, [s.name for s in finished]  # the SELECT, a child of the request
    assert {format(s.context.trace_id, "032x") for s in finished} == {TRACE_ID}
    access = [e for e in logs.named("http_request") if e["path"] == "/api/v1/todos/1"]
    assert [(e["trace_id"], e["span_id"]) for e in access] == [
        (TRACE_ID, format(server.context.span_id, "016x"))
    ]


def test_otel_variables_switch_tracing_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    kit = Kit(KitSettings(gc_freeze=False))
    app = kit.install(FastAPI(), logging=False)
    assert kit.tracing is not None
    assert any(m.cls is TracingMiddleware for m in app.user_middleware)
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    quiet = Kit(KitSettings(gc_freeze=False))
    quiet.install(FastAPI(), logging=False)
    assert quiet.tracing is None
