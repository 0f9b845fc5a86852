"""``MetricsMiddleware``: every HTTP request counted and timed, by route template."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Final

from fastapi.routing import iter_route_contexts

from fastapi_kit.context import RequestContext
from fastapi_kit.metrics.registry import UNMATCHED

if TYPE_CHECKING:
    from collections.abc import Collection

    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from fastapi_kit.metrics.registry import Metrics

__all__ = ("MetricsMiddleware",)

#: Methods counted under their own name; any other is ``OTHER`` (bounded labels).
_METHODS: Final = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)
#: Problem codes counted as authentication or authorization failures.
_AUTH_STATUSES: Final = frozenset({401, 403})
_CACHE_RESULTS: Final = {b"HIT": "hit", b"MISS": "miss", b"BYPASS": "bypass"}


class MetricsMiddleware:
    """Counts and times every HTTP request, labelled by its route template.

    Pure ASGI and outermost, so it sees every answer — errors of the other
    middleware (413, 429, 503) and unknown paths included — and its duration is
    the whole stack's. ``route`` is the matched route's full template
    (``/api/v1/todos/{todo_id}``), or ``<unmatched>``: ids and scanners' paths add
    no label values. Unusual methods are counted as ``OTHER``.

    It also reads what other blocks put in the answer: ``X-Cache`` (hit, miss,
    bypass), a 429 (rate limited), and the problem code of a 401 or 403
    (authentication failures by code).

    Args:
        app: The ASGI app.
        metrics: The app's [`Metrics`][fastapi_kit.metrics.Metrics].
        exclude_paths: Paths not counted (``ACCESS_LOG_EXCLUDE``): ``/metrics``
            itself, health checks.
    """

    def __init__(
        self, app: ASGIApp, *, metrics: Metrics, exclude_paths: Collection[str] = ()
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.exclude_paths = frozenset(exclude_paths)
        self._templates: dict[int, str] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request, then count it."""
        if scope["type"] != "http" or scope["path"] in self.exclude_paths:
            await self.app(scope, receive, send)
            return
        metrics = self.metrics
        method = scope["method"] if scope["method"] in _METHODS else "OTHER"
        status = 500  # what the client gets if the app fails before answering
        cache: str | None = None

        async def send_and_watch(message: Message) -> None:
            nonlocal status, cache
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", ()):
                    if name == b"x-cache":
                        cache = _CACHE_RESULTS.get(value)
            await send(message)

        in_progress = metrics.in_progress.labels(method)
        in_progress.inc()
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            elapsed = time.perf_counter() - started
            in_progress.dec()
            route = self._route(scope)
            metrics.requests.labels(method, route, str(status)).inc()
            metrics.duration.labels(method, route).observe(elapsed)
            if cache is not None:
                metrics.cache_requests.labels(cache).inc()
            if status == 429:
                metrics.rate_limited.inc()
            elif status in _AUTH_STATUSES:
                code = RequestContext.of(scope).problem_code
                metrics.auth_failures.labels(code or str(status)).inc()

    def _route(self, scope: Scope) -> str:
        # FastAPI's routes put themselves in the scope; Starlette's (``/metrics``,
        # ``/docs``) only their endpoint.
        route = scope.get("route") or scope.get("endpoint")
        if route is None:
            return UNMATCHED
        templates = self._templates
        if templates is None:
            templates = self._templates = _templates(scope)
        found = templates.get(id(route))
        if found is None:  # a route added after the first request, or mounted
            found = getattr(route, "path_format", None) or UNMATCHED
        return found


def _templates(scope: Scope) -> dict[int, str]:
    """Each route's full template, by route (or, for Starlette's own, by endpoint).

    FastAPI keeps included routers nested: only the route contexts know the prefix.
    """
    routes = getattr(scope.get("app"), "routes", None) or ()
    templates = {}
    for context in iter_route_contexts(routes):
        if context.path_format:
            templates[id(context.original_route)] = context.path_format
            endpoint = getattr(context.original_route, "endpoint", None)
            if endpoint is not None:
                templates.setdefault(id(endpoint), context.path_format)
    return templates
