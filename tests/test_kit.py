"""Kit composes every block onto an app, in the right order, with a lifespan."""

from __future__ import annotations

import gc
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi import FastAPI

from fastapi_kit import Kit, KitSettings
from fastapi_kit.cache import MemoryCache
from fastapi_kit.errors import UnhandledErrorMiddleware, problem_catalogue
from fastapi_kit.logging import RequestContextMiddleware
from fastapi_kit.metrics import MetricsMiddleware
from fastapi_kit.security import (
    AllowedHostsMiddleware,
    BodySizeLimitMiddleware,
    CORSMiddleware,
    ProxyHeadersMiddleware,
    SecurityHeadersMiddleware,
)
from helpers import client_for, flush_logs

FULL = KitSettings(
    allowed_hosts=["api.example.com"],
    cors_origins=["https://app.example.com"],
    trusted_proxies=["10.0.0.0/8"],
    max_body_size=100,
)
SECURITY = {"x-content-type-options", "x-frame-options", "referrer-policy", "x-request-id"}


def flushed(capsys: pytest.CaptureFixture[str]) -> Any:
    flush_logs()
    return capsys.readouterr()


def make_app(settings: KitSettings = FULL) -> FastAPI:
    app = FastAPI()
    Kit(settings).install(app, logging=False)

    @app.post("/echo")
    async def echo(payload: dict[str, str]) -> dict[str, str]:
        return payload

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError

    return app


def layers(app: FastAPI) -> list[type]:
    return [layer.cls for layer in app.user_middleware]  # type: ignore[misc]


def test_middleware_order_outermost_first() -> None:
    assert layers(make_app()) == [
        MetricsMiddleware,
        RequestContextMiddleware,
        SecurityHeadersMiddleware,
        ProxyHeadersMiddleware,
        AllowedHostsMiddleware,
        CORSMiddleware,
        BodySizeLimitMiddleware,
        UnhandledErrorMiddleware,
    ]


def test_unconfigured_layers_are_left_out() -> None:
    assert layers(make_app(KitSettings(metrics_enabled=False))) == [
        RequestContextMiddleware,
        SecurityHeadersMiddleware,
        BodySizeLimitMiddleware,
        UnhandledErrorMiddleware,
    ]


@pytest.mark.parametrize(
    ("method", "path", "headers", "content", "status"),
    [
        ("GET", "/healthz", {}, None, 200),
        ("GET", "/nowhere", {}, None, 404),
        ("DELETE", "/echo", {}, None, 405),
        ("POST", "/echo", {"content-type": "application/json"}, b"{oops", 422),
        ("POST", "/echo", {}, b"x" * 101, 413),
        ("GET", "/healthz", {"host": "evil.example"}, None, 400),
        (
            "OPTIONS",
            "/echo",
            {"origin": "https://evil.example", "access-control-request-method": "POST"},
            None,
            400,
        ),
        ("GET", "/crash", {}, None, 500),
    ],
)
async def test_every_response_gets_request_id_and_security_headers(
    method: str, path: str, headers: dict[str, str], content: bytes | None, status: int
) -> None:
    async with client_for(make_app(), headers={"host": "api.example.com"}) as client:
        response = await client.request(method, path, headers=headers, content=content)
    assert response.status_code == status
    assert response.headers.keys() >= SECURITY
    if status >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_health_routes_are_installed() -> None:
    async with client_for(make_app(KitSettings())) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        assert (await client.get("/readyz")).json() == {"status": "ok", "checks": {}}


async def test_readiness_registry_is_shared_with_blocks() -> None:
    kit = Kit(KitSettings())
    app = kit.install(FastAPI(), logging=False)

    async def database_down() -> None:
        raise ConnectionError

    kit.readiness.add("database", database_down)
    async with client_for(app) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "error"}


async def test_lifespan_hooks_wrap_the_apps_own_lifespan() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def app_lifespan(app: FastAPI) -> AsyncIterator[dict[str, str]]:
        events.append("app start")
        yield {"from_app": "state"}
        events.append("app stop")

    def hook(name: str):  # type: ignore[no-untyped-def]
        @asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            events.append(f"{name} start")
            yield
            events.append(f"{name} stop")

        return lifespan

    kit = Kit(KitSettings(metrics_enabled=False))  # no state of its own
    kit.add_lifespan(hook("database"))
    kit.add_lifespan(hook("redis"))
    app = kit.install(FastAPI(lifespan=app_lifespan), logging=False)
    async with app.router.lifespan_context(app) as state:
        assert state == {"from_app": "state"}
        events.append("serving")
    assert events == [
        "database start",
        "redis start",
        "app start",
        "serving",
        "app stop",
        "redis stop",
        "database stop",
    ]


async def test_install_configures_json_logging(capsys: pytest.CaptureFixture[str]) -> None:
    app = Kit(KitSettings(log_level="INFO")).install(FastAPI())
    async with client_for(app) as client:
        await client.get("/healthz", headers={"x-request-id": "kit-log-1"})
    lines = [json.loads(line) for line in flushed(capsys).out.splitlines()]
    access = [line for line in lines if line["event"] == "http_request"]
    assert access[0]["request_id"] == "kit-log-1"
    assert access[0]["path"] == "/healthz"


def test_settings_are_read_from_the_environment_when_omitted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CACHE_TTL", "7")
    assert Kit().settings.cache_ttl == 7


def test_the_memory_cache_gets_its_byte_budget_from_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CACHE_MAX_BYTES", "123456")
    backend = Kit().use_cache().backend
    assert isinstance(backend, MemoryCache)
    assert backend.max_bytes == 123456


@pytest.mark.parametrize("freeze", [True, False])
async def test_startup_heap_is_frozen_unless_turned_off(freeze: bool) -> None:
    gc.unfreeze()
    app = Kit(KitSettings(gc_freeze=freeze)).install(FastAPI(), logging=False)
    try:
        async with app.router.lifespan_context(app):
            assert (gc.get_freeze_count() > 0) is freeze
    finally:
        gc.unfreeze()


async def test_a_problem_type_base_reaches_every_problem_the_kit_renders() -> None:
    base = "https://api.example.com/problems/"
    settings = KitSettings(
        gc_freeze=False,
        problem_type_base=base,
        max_body_size=10,
        allowed_hosts=["testserver"],
        cors_origins=["https://app.example.com"],
    )
    kit = Kit(settings)

    async def broken() -> None:
        raise OSError

    kit.readiness.add("broken", broken)
    app = kit.install(FastAPI(), logging=False)

    @app.post("/echo")
    async def echo(body: dict[str, str]) -> dict[str, str]:
        return body

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError

    async with client_for(app) as client:
        answers = {
            "payload_too_large": await client.post("/echo", content=b"x" * 11),
            "bad_request": await client.get("/healthz", headers={"host": "evil.example"}),
            "service_unavailable": await client.get("/readyz"),
            "internal_error": await client.get("/crash"),
            "not_found": await client.get("/nowhere"),
        }
        preflight = await client.options(
            "/echo",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
    answers["bad_request (CORS)"] = preflight
    titles = problem_catalogue()
    for name, response in answers.items():
        code = name.split(" ")[0]
        body = response.json()
        assert (body["type"], body["title"]) == (base + code, titles[code][1]), name
