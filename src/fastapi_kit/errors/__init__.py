"""The error envelope: RFC 9457 problem+json for every error response.

Use it alone:

```python
from fastapi import FastAPI
from fastapi_kit.errors import NotFound, install_error_handlers

app = FastAPI()
install_error_handlers(app)


@app.get("/todos/{todo_id}")
async def get_todo(todo_id: int) -> dict[str, int]:
    raise NotFound(f"Todo {todo_id} not found")
```
"""

from __future__ import annotations

from fastapi_kit.errors.exceptions import (
    APIError,
    BadRequest,
    BadToken,
    Conflict,
    CSRFFailed,
    EmailNotVerified,
    Forbidden,
    IncorrectPassword,
    InvalidCredentials,
    InvalidToken,
    MethodNotAllowed,
    MFARequired,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
    ValidationFailed,
)
from fastapi_kit.errors.handlers import install_error_handlers
from fastapi_kit.errors.middleware import UnhandledErrorMiddleware
from fastapi_kit.errors.openapi import problem_catalogue, problem_responses
from fastapi_kit.errors.problem import (
    ABOUT_BLANK,
    PROBLEM_JSON,
    ProblemDetail,
    ProblemResponse,
    ProblemTypes,
    ValidationErrorItem,
    problem_response,
    status_phrase,
)

__all__ = (
    "ABOUT_BLANK",
    "PROBLEM_JSON",
    "APIError",
    "BadRequest",
    "BadToken",
    "CSRFFailed",
    "Conflict",
    "EmailNotVerified",
    "Forbidden",
    "IncorrectPassword",
    "InvalidCredentials",
    "InvalidToken",
    "MFARequired",
    "MethodNotAllowed",
    "NotAuthenticated",
    "NotFound",
    "PayloadTooLarge",
    "ProblemDetail",
    "ProblemResponse",
    "ProblemTypes",
    "RateLimited",
    "ServiceUnavailable",
    "UnhandledErrorMiddleware",
    "ValidationErrorItem",
    "ValidationFailed",
    "install_error_handlers",
    "problem_catalogue",
    "problem_response",
    "problem_responses",
    "status_phrase",
)
