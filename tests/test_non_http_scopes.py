"""Every kit middleware passes lifespan (and websocket) scopes through untouched."""

from __future__ import annotations

from typing import Any

import pytest

from fastapi_kit.cache import Cache, CacheMiddleware
from fastapi_kit.errors import UnhandledErrorMiddleware
from fastapi_kit.logging import RequestContextMiddleware
from fastapi_kit.ratelimit import RateLimiter, RateLimitHeadersMiddleware
from fastapi_kit.security import (
    AllowedHostsMiddleware,
    BodySizeLimitMiddleware,
    CORSMiddleware,
    ProxyHeadersMiddleware,
    SecurityHeadersMiddleware,
)

MIDDLEWARE: list[tuple[Any, dict[str, Any]]] = [
    (UnhandledErrorMiddleware, {}),
    (CacheMiddleware, {"cache": Cache()}),
    (RateLimitHeadersMiddleware, {"limiter": RateLimiter()}),
    (RequestContextMiddleware, {}),
    (SecurityHeadersMiddleware, {}),
    (BodySizeLimitMiddleware, {"max_body_size": 1}),
    (AllowedHostsMiddleware, {"allowed_hosts": ["api.example.com"]}),
    (CORSMiddleware, {"allow_origins": ["https://app.example.com"]}),
    (ProxyHeadersMiddleware, {"trusted_proxies": ["10.0.0.0/8"]}),
]


@pytest.mark.parametrize(("middleware", "options"), MIDDLEWARE)
async def test_lifespan_scope_reaches_the_app(middleware: Any, options: dict[str, Any]) -> None:
    seen: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope)

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}}
    await middleware(app, **options)(scope, None, None)
    assert seen == [scope]


@pytest.mark.parametrize(
    ("middleware", "options"),
    [(m, o) for m, o in MIDDLEWARE if m not in (AllowedHostsMiddleware, CORSMiddleware)],
)
async def test_websocket_scope_reaches_the_app(middleware: Any, options: dict[str, Any]) -> None:
    seen: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    scope = {"type": "websocket", "path": "/ws", "headers": [], "client": ("10.0.0.1", 1)}
    await middleware(app, **options)(scope, None, None)
    assert seen == ["websocket"]
