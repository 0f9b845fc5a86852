"""The kit's exception hierarchy.

Every class carries its HTTP ``status_code``, its machine-readable ``code`` and the
code's ``title`` at class level (the problem's ``title`` when problem types are named:
[`ProblemTypes`][fastapi_kit.errors.ProblemTypes]); raise one anywhere in a request and
the handlers installed by
[`install_error_handlers`][fastapi_kit.errors.install_error_handlers] render it as
``application/problem+json``:

```text
APIError                       500  internal_error   (base class)
├── BadRequest                 400  bad_request
│   ├── BadToken               400  bad_token
│   └── IncorrectPassword      400  invalid_credentials
├── NotAuthenticated           401  not_authenticated
│   ├── InvalidToken           401  invalid_token
│   ├── InvalidCredentials     401  invalid_credentials
│   └── MFARequired            401  mfa_required
├── Forbidden                  403  forbidden
│   ├── CSRFFailed             403  csrf_failed
│   └── EmailNotVerified       403  email_not_verified
├── NotFound                   404  not_found
├── MethodNotAllowed           405  method_not_allowed
├── Conflict                   409  conflict
├── PayloadTooLarge            413  payload_too_large
├── ValidationFailed           422  validation_error
├── RateLimited                429  rate_limited
└── ServiceUnavailable         503  service_unavailable
```

Apps subclass these to add their own codes:

```python
class TodoLimitReached(Conflict):
    code = "todo_limit_reached"
    title = "Todo limit reached"
```
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = (
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
    "RateLimited",
    "ServiceUnavailable",
    "ValidationFailed",
)


class APIError(Exception):
    """Base of every error the kit renders as RFC 9457 problem details.

    Args:
        detail: Human-readable explanation of this occurrence. Shown to the client,
            except for 5xx errors of this base class, whose detail is only logged.
        headers: Extra response headers (for example ``Retry-After``).
        extra: Extension members added to the problem body.
    """

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    title: ClassVar[str] = "Internal Server Error"
    #: Headers sent with every instance of the class (instance headers win).
    default_headers: ClassVar[Mapping[str, str]] = {}

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.headers: dict[str, str] = {**self.default_headers, **(headers or {})}
        self.extra: dict[str, Any] = dict(extra or {})


class BadRequest(APIError):
    """The request is malformed (400)."""

    status_code = 400
    code = "bad_request"
    title = "Bad Request"


class BadToken(BadRequest):
    """A single-use link's token cannot be used (400).

    Expired, tampered with, of another purpose, already used, or outdated by a change
    to the account (see [`PurposeTokens`][fastapi_kit.auth.PurposeTokens]): one code
    for every case, so the answer tells nobody which.
    """

    code = "bad_token"
    title = "Bad Token"


class IncorrectPassword(BadRequest):
    """The current password sent to change it is wrong (400 ``invalid_credentials``).

    A 400, not a 401: the request is authenticated; what it says is wrong.
    """

    code = "invalid_credentials"
    title = "Invalid Credentials"


class NotAuthenticated(APIError):
    """No credentials were presented (401)."""

    status_code = 401
    code = "not_authenticated"
    title = "Not Authenticated"
    default_headers: ClassVar[Mapping[str, str]] = {"WWW-Authenticate": "Bearer"}


class InvalidToken(NotAuthenticated):
    """The token is malformed, expired, revoked or of the wrong type (401)."""

    code = "invalid_token"
    title = "Invalid Token"
    default_headers: ClassVar[Mapping[str, str]] = {
        "WWW-Authenticate": 'Bearer error="invalid_token"'
    }


class InvalidCredentials(NotAuthenticated):
    """A login failed: unknown account or wrong password, deliberately indistinguishable (401)."""

    code = "invalid_credentials"
    title = "Invalid Credentials"


class MFARequired(NotAuthenticated):
    """The password was right; the account's second factor (``otp``) is missing (401)."""

    code = "mfa_required"
    title = "MFA Required"


class Forbidden(APIError):
    """Authenticated, but not allowed to do this (403)."""

    status_code = 403
    code = "forbidden"
    title = "Forbidden"


class CSRFFailed(Forbidden):
    """A cookie-authenticated unsafe request lacked a matching CSRF token (403)."""

    code = "csrf_failed"
    title = "CSRF Check Failed"


class EmailNotVerified(Forbidden):
    """A correct login to an account whose email is not verified yet (403).

    Only when the app requires verified addresses (``REQUIRE_VERIFIED_EMAIL``).
    """

    code = "email_not_verified"
    title = "Email Not Verified"


class NotFound(APIError):
    """The resource does not exist, or is not visible to this user (404)."""

    status_code = 404
    code = "not_found"
    title = "Not Found"


class MethodNotAllowed(APIError):
    """The route exists but not for this method (405); pass ``headers={"Allow": ...}``."""

    status_code = 405
    code = "method_not_allowed"
    title = "Method Not Allowed"


class Conflict(APIError):
    """The request conflicts with the current state, e.g. a duplicate (409)."""

    status_code = 409
    code = "conflict"
    title = "Conflict"


class PayloadTooLarge(APIError):
    """The request body is over the configured limit (413)."""

    status_code = 413
    code = "payload_too_large"
    title = "Content Too Large"


class ValidationFailed(APIError):
    """The input is well-formed but invalid (422)."""

    status_code = 422
    code = "validation_error"
    title = "Validation Error"


class _RetryableError(APIError):
    """An error that always tells the client when to retry (``Retry-After``)."""

    default_retry_after: ClassVar[int] = 1

    def __init__(
        self,
        detail: str | None = None,
        *,
        retry_after: int | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        seconds = self.default_retry_after if retry_after is None else max(retry_after, 0)
        super().__init__(
            detail, headers={"Retry-After": str(seconds), **(headers or {})}, extra=extra
        )
        self.retry_after = seconds


class RateLimited(_RetryableError):
    """The client is over a rate limit (429); carries ``Retry-After`` in seconds."""

    status_code = 429
    code = "rate_limited"
    title = "Too Many Requests"


class ServiceUnavailable(_RetryableError):
    """A dependency (database, Redis) is unavailable (503); carries ``Retry-After``."""

    status_code = 503
    code = "service_unavailable"
    title = "Service Unavailable"
    default_retry_after = 5
