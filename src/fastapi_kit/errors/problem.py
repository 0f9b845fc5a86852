"""RFC 9457 problem details: the body model and the response that carries it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

from fastapi_kit import _validation
from fastapi_kit._asgi import get_request_id
from fastapi_kit.context import RequestContext
from fastapi_kit.errors.exceptions import (
    APIError,
    BadRequest,
    Conflict,
    Forbidden,
    MethodNotAllowed,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
    ValidationFailed,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from starlette.types import Scope

__all__ = (
    "ABOUT_BLANK",
    "PROBLEM_JSON",
    "ProblemDetail",
    "ProblemResponse",
    "ProblemTypes",
    "ValidationErrorItem",
    "problem_response",
    "status_phrase",
)

#: The media type of every error response.
PROBLEM_JSON = "application/problem+json"

# The canonical code and title per status come from the exception classes themselves.
_CANONICAL: dict[int, type[APIError]] = {
    cls.status_code: cls
    for cls in (
        BadRequest,
        NotAuthenticated,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        Conflict,
        PayloadTooLarge,
        ValidationFailed,
        RateLimited,
        ServiceUnavailable,
        APIError,
    )
}
_RETRY_AFTER_DEFAULTS = {RateLimited.status_code: "1", ServiceUnavailable.status_code: "5"}
_NON_WORD = re.compile(r"[^a-z0-9]+")
# RFC 9110's reason phrases where older Pythons' ``HTTPStatus`` still has RFC 7231's.
_RFC9110_PHRASES = {
    413: "Content Too Large",
    414: "URI Too Long",
    416: "Range Not Satisfiable",
    422: "Unprocessable Content",
}


def status_phrase(status_code: int) -> str:
    """The HTTP reason phrase of ``status_code`` (RFC 9110), or ``Error`` for unknown ones."""
    phrase = _RFC9110_PHRASES.get(status_code)
    if phrase is not None:
        return phrase
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"


@dataclass(frozen=True, slots=True)
class ProblemTypes:
    """What the ``type`` and ``title`` of problems are (RFC 9457 sections 3.1.1, 4.2.1).

    Without a ``base``, every problem is ``"type": "about:blank"``, and then the
    RFC wants the ``title`` to be the HTTP status phrase (``Unauthorized``): the
    specific error is in ``code`` (``invalid_token``). With a ``base``
    (``https://api.example.com/problems/``, ``PROBLEM_TYPE_BASE``), each code is a
    problem type of its own: ``type`` is the base followed by the code, and
    ``title`` is the code's own title (``Invalid Token``). Document each type where
    its URI points.

    Attributes:
        base: The URI the codes are appended to; ``None`` for ``about:blank``.
    """

    base: str | None = None

    def __post_init__(self) -> None:
        if self.base is not None:
            _validation.problem_type_base(self.base)

    def type_and_title(self, status_code: int, code: str, title: str) -> tuple[str, str]:
        """The ``type`` and ``title`` of a problem with this status, code and code title."""
        if self.base is None:
            return "about:blank", status_phrase(status_code)
        return self.base + code, title


#: Every problem ``about:blank``, titled with its status phrase (the default).
ABOUT_BLANK = ProblemTypes()


class ValidationErrorItem(BaseModel):
    """One entry of a 422 problem's ``errors`` list (never includes the submitted value)."""

    loc: list[str | int] = Field(description="Where the error is, e.g. `['body', 'title']`.")
    msg: str = Field(description="What is wrong, for humans.")
    type: str = Field(description="Machine-readable error type, e.g. `missing`.")


class ProblemDetail(BaseModel):
    """The body of every error response (RFC 9457, plus ``code`` and ``request_id``).

    Extension members (such as ``checks`` on readiness failures) are allowed.
    """

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "about:blank",
                    "title": "Not Found",
                    "status": 404,
                    "detail": "Todo 42 not found",
                    "instance": "/api/v1/todos/42",
                    "code": "not_found",
                    "request_id": "3f2c9a7e1b4d4c0f8e6a5b2d1c0e9f8a",
                }
            ]
        },
    )

    type: str = Field(
        "about:blank",
        description="A URI reference identifying the problem type: `about:blank`, or "
        "the app's problem type base followed by `code`.",
    )
    title: str = Field(
        description="With `about:blank`, the HTTP status phrase; otherwise the title of "
        "the problem type."
    )
    status: int = Field(description="The HTTP status code.")
    detail: str | None = Field(None, description="Explanation specific to this occurrence.")
    instance: str | None = Field(None, description="The request path that failed.")
    code: str = Field(description="Stable machine-readable error code, e.g. `not_found`.")
    request_id: str = Field(description="The request id, also sent as `X-Request-ID`.")
    errors: list[ValidationErrorItem] | None = Field(
        None, description="Validation errors (422 only)."
    )


class ProblemResponse(JSONResponse):
    """A ``JSONResponse`` with the ``application/problem+json`` media type."""

    media_type = PROBLEM_JSON


def default_code_and_title(status_code: int) -> tuple[str, str]:
    """Return the kit's ``code`` and that code's ``title`` for an HTTP status code."""
    canonical = _CANONICAL.get(status_code)
    if canonical is not None:
        return canonical.code, canonical.title
    phrase = status_phrase(status_code)
    if phrase == "Error":
        return "error", phrase
    return _NON_WORD.sub("_", phrase.lower()).strip("_"), phrase


def problem_response(
    scope: Scope,
    status_code: int,
    *,
    code: str | None = None,
    title: str | None = None,
    detail: str | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
    types: ProblemTypes = ABOUT_BLANK,
) -> ProblemResponse:
    """Build the problem+json response for the request described by ``scope``.

    ``code`` and its ``title`` default to the kit's canonical values for
    ``status_code``; ``types`` decides whether the body's ``type`` is
    ``about:blank`` (and its ``title`` the status phrase) or names the code.
    ``instance`` is the request path and ``request_id`` the request's id. 429 and
    503 responses always carry ``Retry-After``; 413 responses close the connection.

    Args:
        scope: The ASGI scope of the request being answered.
        status_code: The HTTP status.
        code: Machine-readable error code.
        title: The code's title (used when ``types`` has a base).
        detail: Explanation of this occurrence, shown to the client.
        headers: Extra response headers.
        extra: Extension members merged into the body.
        types: How problem types are named (the app's ``PROBLEM_TYPE_BASE``).
    """
    default_code, default_title = default_code_and_title(status_code)
    code = code or default_code
    problem_type, problem_title = types.type_and_title(status_code, code, title or default_title)
    body: dict[str, Any] = {"type": problem_type, "title": problem_title, "status": status_code}
    if detail:
        body["detail"] = detail
    body["instance"] = scope.get("path")
    body["code"] = code
    RequestContext.of(scope).problem_code = code
    body["request_id"] = get_request_id(scope)
    if extra:
        body.update({key: value for key, value in extra.items() if key not in body})
    response_headers = dict(headers or {})
    retry_after = _RETRY_AFTER_DEFAULTS.get(status_code)
    if retry_after is not None and not any(k.lower() == "retry-after" for k in response_headers):
        response_headers["Retry-After"] = retry_after
    if status_code == PayloadTooLarge.status_code:
        # The rest of the body was not read: the connection cannot be reused.
        response_headers["Connection"] = "close"
    return ProblemResponse(body, status_code=status_code, headers=response_headers)


def error_response(
    scope: Scope, exc: APIError, types: ProblemTypes = ABOUT_BLANK
) -> ProblemResponse:
    """Render an [`APIError`][fastapi_kit.errors.APIError] for the request in ``scope``.

    The detail of a 500 is never shown (it may hold internals); the log has it.
    """
    detail = None if exc.status_code == 500 else exc.detail
    return problem_response(
        scope,
        exc.status_code,
        code=exc.code,
        title=exc.title,
        detail=detail,
        headers=exc.headers,
        extra=exc.extra,
        types=types,
    )
