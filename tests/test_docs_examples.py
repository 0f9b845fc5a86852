"""Every code snippet shown in the README and the docs runs and does what the text says."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from helpers import client_for, flush_logs

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "examples" / "quickstart" / "app.py"


def flushed(capsys: pytest.CaptureFixture[str]) -> Any:
    flush_logs()
    return capsys.readouterr()


def load(path: Path) -> ModuleType:
    """Import a snippet file as a fresh module."""
    spec = importlib.util.spec_from_file_location(f"snippet_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_quickstart_is_the_served_example() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    assert QUICKSTART.read_text() in blocks
    assert len(QUICKSTART.read_text().splitlines()) <= 21


def test_snippet_files_shown_in_docs_exist() -> None:
    for page in (ROOT / "docs").rglob("*.md"):
        for included in re.findall(r'--8<-- "([^"]+)"', page.read_text()):
            assert (ROOT / included).is_file(), f"{page.name} includes missing {included}"


async def test_quickstart(capsys: pytest.CaptureFixture[str]) -> None:
    app = load(QUICKSTART).app
    async with client_for(app) as client:
        found = await client.get("/notes/1")
        missing = await client.get("/notes/2", headers={"x-request-id": "qs-1"})
        health = await client.get("/healthz")
    assert found.json() == {"id": 1, "text": "Hello, kit"}
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Note 2 not found",
        "instance": "/notes/2",
        "code": "not_found",
        "request_id": "qs-1",
    }
    assert health.json() == {"status": "ok"}
    access = [json.loads(line) for line in flushed(capsys).out.splitlines()]
    assert {line["path"] for line in access if line["event"] == "http_request"} == {
        "/notes/1",
        "/notes/2",
        "/healthz",
    }


async def test_errors_alone() -> None:
    app = load(ROOT / "docs/examples/errors_alone.py").app
    async with client_for(app) as client:
        missing = await client.get("/todos/9")
        created = [await client.post("/todos", json={"title": f"t{i}"}) for i in range(3)]
        invalid = await client.post("/todos", json={"title": ""})
    assert missing.json()["detail"] == "Todo 9 not found"
    assert [response.status_code for response in created] == [201, 201, 409]
    assert created[2].json()["code"] == "todo_limit_reached"
    assert created[2].json()["limit"] == 3
    assert invalid.json()["errors"][0]["loc"] == ["body", "title"]


async def test_logging_alone(capsys: pytest.CaptureFixture[str]) -> None:
    app = load(ROOT / "docs/examples/logging_alone.py").app
    async with client_for(app) as client:
        response = await client.post("/orders", headers={"x-request-id": "ord-1"})
    lines = [json.loads(line) for line in flushed(capsys).out.splitlines()]
    [created] = [line for line in lines if line["event"] == "order_created"]
    assert created["request_id"] == response.headers["x-request-id"] == "ord-1"
    assert created["card_token"] == "[REDACTED]"
    assert any(line["event"] == "http_request" for line in lines)


async def test_security_alone() -> None:
    app = load(ROOT / "docs/examples/security_alone.py").app
    async with client_for(
        app, client=("10.0.0.7", 1), headers={"host": "api.example.com"}
    ) as client:
        proxied = await client.get("/whoami", headers={"x-forwarded-for": "198.51.100.4"})
        wrong_host = await client.get("/whoami", headers={"host": "evil.example"})
        too_big = await client.post("/whoami", content=b"x" * (64 * 1024 + 1))
    assert proxied.json() == {"ip": "198.51.100.4"}
    assert proxied.headers["x-frame-options"] == "DENY"
    assert wrong_host.status_code == 400
    assert too_big.status_code == 413
    assert too_big.headers["x-content-type-options"] == "nosniff"


async def test_health_checks() -> None:
    module = load(ROOT / "docs/examples/health_checks.py")
    async with client_for(module.app) as client:
        before = await client.get("/readyz")
        async with module.app.router.lifespan_context(module.app):
            during = await client.get("/readyz")
    assert before.status_code == 503
    assert before.json()["checks"] == {"search": "error"}
    assert during.json() == {"status": "ok", "checks": {"search": "ok"}}


def test_every_setting_is_documented() -> None:
    from fastapi_kit import KitSettings

    page = (ROOT / "docs" / "configuration.md").read_text()
    for name in KitSettings.model_fields:
        assert f"`{name.upper()}`" in page, f"{name.upper()} is missing from configuration.md"
