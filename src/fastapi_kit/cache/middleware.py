"""Pure ASGI middleware that stores cache misses and answers ``If-None-Match``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi_kit._asgi import get_header
from fastapi_kit.cache.etag import etag_for, etag_matches
from fastapi_kit.cache.plan import VARY
from fastapi_kit.context import RequestContext

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from fastapi_kit.cache.plan import CachePlan
    from fastapi_kit.cache.service import Cache

__all__ = ("CacheMiddleware",)

_VARY = VARY.encode()
_DROPPED_ON_304 = frozenset({b"content-length", b"content-type"})


class CacheMiddleware:
    """See the responses of cached and conditional endpoints through.

    The endpoint wrappers decide (inside the route, after authentication): they
    answer hits themselves, and for a miss leave a plan in the request's
    [`RequestContext`][fastapi_kit.context.RequestContext]. For
    such a response this middleware holds the headers until the body is complete,
    then computes the strong ``ETag`` from the body, stores the entry (misses),
    adds ``Cache-Control``, ``Vary`` and ``X-Cache``, and answers ``304`` without a
    body when ``If-None-Match`` matches. Only ``200`` responses are stored. Tags a
    request invalidated are invalidated once more here, after the endpoint's
    database session committed and before the client gets the response: a client
    never reads its own write stale. Every other response passes untouched.

    Args:
        app: The ASGI app to wrap.
        cache: The cache (``cache.install(app)`` adds the middleware with it); the
            request's endpoints find it through the request context.
    """

    def __init__(self, app: ASGIApp, *, cache: Cache) -> None:
        self.app = app
        self.cache = cache
        cache.middleware_installed = True  # the stack is built before the lifespan runs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        context = RequestContext.of(scope)
        context.cache = self.cache
        held: Message | None = None
        chunks: list[bytes] = []

        async def send_through(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                pending, context.cache_invalidations = context.cache_invalidations, []
                plan = context.cache_plan
                if pending:
                    await self.cache.invalidate(pending)
                if plan is None:
                    await send(message)
                elif message["status"] != 200:
                    plan.finish(None)
                    await send(message)
                elif plan.mode == "bypass":
                    message["headers"] = _with_headers(message, plan.cache_headers())
                    await send(message)
                else:
                    held = message
                return
            if held is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            start, held = held, None
            assert context.cache_plan is not None  # noqa: S101  # held only with a plan
            await self._finish(scope, context.cache_plan, start, b"".join(chunks), send)

        try:
            await self.app(scope, receive, send_through)
        finally:
            plan = context.cache_plan
            if plan is not None:
                plan.finish(None)  # nothing stored (an error, a disconnect): wake waiters
                await plan.release()  # after the response: costs the client nothing

    async def _finish(
        self, scope: Scope, plan: CachePlan, start: Message, body: bytes, send: Send
    ) -> None:
        etag = etag_for(body)
        extra = [(b"etag", etag.encode())]
        if plan.mode == "miss":
            media_type = next(
                (value for name, value in start.get("headers", ()) if name == b"content-type"),
                b"",
            )
            if not await plan.store(media_type, body, etag):
                plan.mode = "bypass"
            extra += plan.cache_headers()
        if_none_match = get_header(scope, b"if-none-match")
        if if_none_match is not None and etag_matches(if_none_match.decode("latin-1"), etag):
            headers = [
                pair for pair in _with_headers(start, extra) if pair[0] not in _DROPPED_ON_304
            ]
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        start["headers"] = _with_headers(start, extra)
        await send(start)
        await send({"type": "http.response.body", "body": body})


def _with_headers(message: Message, extra: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    headers = [
        (name, value)
        for name, value in message.get("headers", ())
        if name not in {b"etag", b"cache-control", b"x-cache"} or (name, value) in extra
    ]
    vary = [value for name, value in headers if name == b"vary"]
    headers = [pair for pair in headers if pair[0] != b"vary"]
    headers.append((b"vary", b", ".join([*vary, _VARY])))
    headers.extend(pair for pair in extra if pair not in headers)
    return headers
