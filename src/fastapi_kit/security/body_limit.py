"""Pure ASGI middleware that refuses request bodies over a size limit with a 413 problem."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.middleware.body_limit import RequestBodyLimitMiddleware

from fastapi_kit._asgi import get_header
from fastapi_kit.errors import (
    ABOUT_BLANK,
    PayloadTooLarge,
    ProblemTypes,
    problem_response,
    problem_responses,
)

if TYPE_CHECKING:
    from typing import Any

    from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ("DEFAULT_MAX_BODY_SIZE", "BodySizeLimitMiddleware", "describe_body_limit")

#: 1 MiB.
DEFAULT_MAX_BODY_SIZE = 1024 * 1024
_FRAMED_BY_CONNECTION = ("1.0", "1.1")


class BodySizeLimitMiddleware:
    """Answer 413 ``payload_too_large`` when a request body is over ``max_body_size`` bytes.

    * A declared ``Content-Length`` over the limit is refused at once, before the app
      runs and without reading a byte of the body; the connection is closed.
    * A body without a declared length (chunked) is counted as the app reads it, by
      Starlette's ``RequestBodyLimitMiddleware``: the read that crosses the limit
      raises a 413 ``HTTPException``, rendered as problem+json by the kit's handlers,
      and nothing more is read.

    The limit is a ceiling for the whole app: FastAPI's per-route ``max_body_size``
    can lower it for a route, not raise it.

    Args:
        app: The ASGI app to wrap.
        max_body_size: The largest accepted body, in bytes.
        problem_types: How refusals' ``type`` and ``title`` are named.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        problem_types: ProblemTypes = ABOUT_BLANK,
    ) -> None:
        if max_body_size < 0:
            msg = "max_body_size must be >= 0"
            raise ValueError(msg)
        self.app = app
        self.problem_types = problem_types
        self.max_body_size = max_body_size
        self._counting_app = RequestBodyLimitMiddleware(app, max_body_size=max_body_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = get_header(scope, b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await problem_response(
                    scope, 400, detail="Invalid Content-Length header.", types=self.problem_types
                )(scope, receive, send)
                return
            if int(declared) > self.max_body_size:
                await self._refuse(scope, receive, send)
                return
            # The server frames the body by its declared length: nothing to count.
            await self.app(scope, receive, send)
            return
        if (
            scope.get("http_version") in _FRAMED_BY_CONNECTION
            and get_header(scope, b"transfer-encoding") is None
        ):
            # HTTP/1.x without Content-Length or Transfer-Encoding has no body.
            await self.app(scope, receive, send)
            return
        await self._counting_app(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            scope,
            PayloadTooLarge.status_code,
            detail=f"The request body is over the limit of {self.max_body_size} bytes.",
            types=self.problem_types,
        )
        await response(scope, receive, send)


def describe_body_limit(document: dict[str, Any]) -> None:
    """Give every operation of the OpenAPI ``document`` that takes a body its 413."""
    too_large = problem_responses(PayloadTooLarge)[413]
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            if "requestBody" in operation:
                operation.setdefault("responses", {}).setdefault("413", too_large)
