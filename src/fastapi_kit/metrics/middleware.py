"""``MetricsMiddleware``: every HTTP request counted and timed, by route template."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Final

from fastapi_kit._routes import RouteTemplates
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

    Pure ASGI and outside every other layer of the kit but tracing, so it sees every
    answer — errors of the other middleware (413, 429, 503) and unknown paths
    included — and its duration is the whole stack's. ``route`` is the matched route's full template
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
        self._routes = RouteTemplates()

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
            route = self._routes.template(scope) or UNMATCHED
            metrics.requests.labels(method, route, str(status)).inc()
            metrics.duration.labels(method, route).observe(elapsed)
            if cache is not None:
                metrics.cache_requests.labels(cache).inc()
            if status == 429:
                metrics.rate_limited.inc()
            elif status in _AUTH_STATUSES:
                code = RequestContext.of(scope).problem_code
                metrics.auth_failures.labels(code or str(status)).inc()
