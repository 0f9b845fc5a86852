"""``app_client``: an httpx client for an app whose lifespan runs, as under a server."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

try:
    import httpx
except ImportError as exc:  # pragma: no cover - depends on the environment
    msg = 'fastapi_kit.testing needs httpx: pip install "httpx"'
    raise ImportError(msg) from exc

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    from starlette.applications import Starlette
    from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ("app_client",)


class _WithLifespanState:
    """Give each request a copy of the lifespan state, as ASGI servers do."""

    def __init__(self, app: ASGIApp, state: Mapping[str, Any]) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["state"] = dict(self.state)  # httpx only sends HTTP requests
        await self.app(scope, receive, send)


@asynccontextmanager
async def app_client(
    app: Starlette,
    *,
    base_url: str = "http://testserver",
    client: tuple[str, int] = ("127.0.0.1", 50000),
    raise_app_exceptions: bool = False,
    **kwargs: Any,
) -> AsyncIterator[httpx.AsyncClient]:
    """Start ``app`` (its lifespan), and yield an ``httpx.AsyncClient`` talking to it.

    Like a server, it runs the lifespan around the client's use and hands each
    request the lifespan state, so ``DbSession`` and other lifespan-started
    resources work in tests:

    ```python
    async with app_client(create_app()) as client:
        response = await client.get("/todos")
    ```

    Args:
        app: The application.
        base_url: The client's base URL.
        client: The (host, port) the app sees as the client's address.
        raise_app_exceptions: Re-raise exceptions the app did not handle into the test
            instead of answering them like a server (the kit answers them with 500s).
        **kwargs: More ``httpx.AsyncClient`` options (``headers``, ``cookies``...).
    """
    if app.middleware_stack is None:  # as a server's first ASGI call would, before start-up
        app.middleware_stack = app.build_middleware_stack()
    async with app.router.lifespan_context(app) as state:
        transport = httpx.ASGITransport(
            app=_WithLifespanState(app, state or {}),
            raise_app_exceptions=raise_app_exceptions,
            client=client,
        )
        async with httpx.AsyncClient(transport=transport, base_url=base_url, **kwargs) as http:
            yield http
