"""Pure ASGI middleware that answers unhandled exceptions with a generic 500 problem."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from fastapi_kit._asgi import get_request_id
from fastapi_kit.errors.problem import ABOUT_BLANK, ProblemTypes, problem_response

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ("UnhandledErrorMiddleware",)


class UnhandledErrorMiddleware:
    """Catch exceptions the app did not handle, log them once, answer a 500 problem.

    Starlette's own ``ServerErrorMiddleware`` sits outside every user middleware, so
    its 500s miss the headers those middleware add (``X-Request-ID``, security
    headers) and it re-raises, which makes the server log the traceback a second time.
    Installed innermost, this middleware answers inside them: the client gets a
    generic ``internal_error`` body, the log gets the traceback under the request id.
    If the response had already started, nothing can be sent: the exception is
    re-raised so the server closes the connection.

    Args:
        app: The ASGI app to wrap.
        problem_types: How the 500's ``type`` and ``title`` are named.
    """

    def __init__(self, app: ASGIApp, *, problem_types: ProblemTypes = ABOUT_BLANK) -> None:
        self.app = app
        self.problem_types = problem_types
        self._logger = structlog.get_logger("fastapi_kit.errors")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response_started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            self._logger.exception(
                "unhandled_exception",
                request_id=get_request_id(scope),
                method=scope.get("method"),
                path=scope.get("path"),
            )
            if response_started:
                raise
            await problem_response(scope, 500, types=self.problem_types)(scope, receive, send)
