"""Pure ASGI middleware: request ids, request-scoped log context and the access log."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

import structlog

from fastapi_kit._asgi import get_header, new_request_id, set_request_id
from fastapi_kit.context import RequestContext

if TYPE_CHECKING:
    from collections.abc import Collection

    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ("REQUEST_ID_HEADER", "RequestContextMiddleware")

#: The header that carries the request id, both ways.
REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_HEADER_KEY = REQUEST_ID_HEADER.lower().encode("latin-1")
# A client's id is kept only when it cannot hurt a log line or a response header.
_SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,128}")


class RequestContextMiddleware:
    """Give every request an id, bind it to the log context, and log one line per request.

    * ``X-Request-ID``: a client's value is kept when it is at most 128 characters of
      ``[A-Za-z0-9._-]``; otherwise a new id is made. Either way it is stored as
      ``request.state.request_id``, bound to ``structlog.contextvars`` for every log
      event of the request, and sent back on the response, error responses included.
    * Access log: one ``http_request`` event per request with ``method``, ``path``
      (never the query string, which may carry secrets), ``status``, ``duration_ms``,
      ``client_ip``, ``request_id`` and, once authentication found the user (or the
      app set ``request.state.user_id``), ``user_id``.

    Install it outermost, so that every other layer's responses carry the id.

    Args:
        app: The ASGI app to wrap.
        access_log: Write the per-request line (``False`` leaves only the ids).
        access_log_exclude: Paths whose requests get no line (``ACCESS_LOG_EXCLUDE``):
            health checks, metrics scrapes.
    """

    def __init__(
        self, app: ASGIApp, *, access_log: bool = True, access_log_exclude: Collection[str] = ()
    ) -> None:
        self.app = app
        self.access_log = access_log
        self.access_log_exclude = frozenset(access_log_exclude)
        self._logger = structlog.get_logger("fastapi_kit.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = get_header(scope, _REQUEST_ID_HEADER_KEY)
        if incoming is not None and _SANE_REQUEST_ID.fullmatch(incoming):
            request_id = incoming.decode("ascii")
        else:
            request_id = new_request_id()
        set_request_id(scope, request_id)
        id_header = (_REQUEST_ID_HEADER_KEY, request_id.encode("ascii"))
        status = 500  # what the client gets if the app raises before answering
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # A new list: the old one may belong to a Response that is sent again.
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.access_log and scope["path"] not in self.access_log_exclude:
                self._log_request(scope, status, started)
            RequestContext.of(scope).end_log_context()  # what blocks bound (user_id)
            structlog.contextvars.reset_contextvars(**tokens)

    def _log_request(self, scope: Scope, status: int, started: float) -> None:
        client = scope.get("client")
        fields: dict[str, Any] = {
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "client_ip": client[0] if client else None,
        }
        user_id = RequestContext.of(scope).principal_id(scope)
        if user_id is not None:
            fields["user_id"] = user_id
        self._logger.info("http_request", **fields)
