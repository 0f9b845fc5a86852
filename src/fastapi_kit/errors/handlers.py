"""Exception handlers that turn every error source into problem+json."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import structlog
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from fastapi_kit._asgi import get_request_id
from fastapi_kit.errors.exceptions import APIError
from fastapi_kit.errors.middleware import UnhandledErrorMiddleware
from fastapi_kit.errors.openapi import install_problem_openapi
from fastapi_kit.errors.problem import (
    ABOUT_BLANK,
    ProblemTypes,
    error_response,
    problem_response,
)

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

__all__ = ("install_error_handlers",)


class _Handlers:
    """The exception handlers, rendering problems with the app's ``ProblemTypes``."""

    def __init__(self, types: ProblemTypes) -> None:
        self.types = types

    async def api_error(self, request: Request, exc: Exception) -> Response:
        """Render a raised [`APIError`][fastapi_kit.errors.APIError]."""
        assert isinstance(exc, APIError)  # noqa: S101  # registered for APIError only
        if exc.status_code >= 500:
            structlog.get_logger("fastapi_kit.errors").warning(
                "api_error", code=exc.code, status=exc.status_code, detail=exc.detail
            )
        return error_response(request.scope, exc, self.types)

    async def http_exception(self, request: Request, exc: Exception) -> Response:
        """Render Starlette/FastAPI ``HTTPException`` (routing 404/405 included)."""
        assert isinstance(exc, HTTPException)  # noqa: S101  # registered for HTTPException only
        detail: str | None = None
        raw_detail: Any = exc.detail  # FastAPI's HTTPException accepts any JSON value
        if exc.status_code != 500:
            detail = raw_detail if isinstance(raw_detail, str) else json.dumps(raw_detail)
        return problem_response(
            request.scope, exc.status_code, detail=detail, headers=exc.headers, types=self.types
        )

    async def validation_error(self, request: Request, exc: Exception) -> Response:
        """Render a 422 with an ``errors`` list that never echoes the submitted values."""
        assert isinstance(exc, RequestValidationError)  # noqa: S101  # registered for it only
        return problem_response(
            request.scope,
            422,
            detail="The request is invalid.",
            extra={"errors": [_safe_error(error) for error in exc.errors()]},
            types=self.types,
        )

    async def unhandled_exception(self, request: Request, exc: Exception) -> Response:
        """Log an unhandled exception with its traceback and answer a generic 500.

        This runs in Starlette's outermost ``ServerErrorMiddleware``, for exceptions
        that escape every middleware. Inside the app,
        [`UnhandledErrorMiddleware`][fastapi_kit.errors.UnhandledErrorMiddleware]
        answers first.
        """
        response = problem_response(request.scope, 500, types=self.types)
        structlog.get_logger("fastapi_kit.errors").error(
            "unhandled_exception",
            exc_info=exc,
            request_id=get_request_id(request.scope),
            method=request.method,
            path=request.url.path,
        )
        return response


def _safe_error(error: Any) -> dict[str, Any]:
    # Only where and what: pydantic's `input` and `ctx` can hold the submitted
    # value (a password, say), so they never reach the client.
    return {
        "loc": [part if isinstance(part, int) else str(part) for part in error.get("loc", ())],
        "msg": str(error.get("msg", "")),
        "type": str(error.get("type", "value_error")),
    }


def install_error_handlers(app: Starlette, *, problem_types: ProblemTypes = ABOUT_BLANK) -> None:
    """Make every error response of ``app`` an RFC 9457 problem+json body.

    Covers raised ``APIError``s, ``HTTPException``s (routing 404s and 405s with their
    ``Allow`` header included), request validation errors (422, without the submitted
    values) and unhandled exceptions (500, generic body; traceback logged with the
    request id). On a FastAPI app it also documents the shared ``ProblemDetail``
    schema in OpenAPI, with every problem type, and declares every 422 response
    with it.

    Args:
        app: The FastAPI (or Starlette) application.
        problem_types: ``about:blank`` problems titled by status (the default), or
            ``ProblemTypes(base)`` to name a type per code (``PROBLEM_TYPE_BASE``).
    """
    handlers = _Handlers(problem_types)
    app.add_exception_handler(APIError, handlers.api_error)
    app.add_exception_handler(HTTPException, handlers.http_exception)
    app.add_exception_handler(RequestValidationError, handlers.validation_error)
    app.add_exception_handler(Exception, handlers.unhandled_exception)
    installed: list[object] = [layer.cls for layer in app.user_middleware]
    if UnhandledErrorMiddleware not in installed:
        app.add_middleware(UnhandledErrorMiddleware, problem_types=problem_types)
    if isinstance(app, FastAPI):
        install_problem_openapi(app, problem_types)
