"""``RequestContext``: what the kit's blocks know about one request, in one typed place.

The blocks meet on a request without knowing each other: the request middleware
gives it an id, authentication finds its user, the cache plans its response, the
rate limiter records its windows. Each writes and reads typed attributes of one
slotted object kept in the ASGI scope (as Litestar's ``ScopeState``), instead of
string keys in ``request.state``. This module imports nothing of the kit: every
block may import it.

Authentication also sets ``scope["user"]`` and ``scope["auth"]`` as Starlette's
``AuthenticationMiddleware`` does, so ``request.user`` and third-party code find the
user; the request id stays at ``request.state.request_id`` for application code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

import structlog

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.types import Scope

    from fastapi_kit.auth.tokens import TokenClaims
    from fastapi_kit.auth.users import UserProtocol
    from fastapi_kit.cache.plan import CachePlan
    from fastapi_kit.cache.service import Cache
    from fastapi_kit.ratelimit.limiter import RateLimiter, WindowState

__all__ = (
    "Authenticator",
    "RequestContext",
    "lifespan_authenticator",
    "lifespan_service",
    "published",
    "published_authenticator",
)

_SCOPE_KEY = "fastapi_kit"
T = TypeVar("T")


class RequestContext:
    """The kit's view of one request; ``RequestContext.of(scope)`` finds or makes it.

    Attributes:
        request_id: The request's id (``X-Request-ID``), once the request middleware ran.
        user: The authenticated user, once authentication ran and succeeded.
        claims: The claims of the token that authenticated it.
        cache: The cache, put here by its middleware for the request's endpoints.
        cache_plan: What the cache middleware must do with the response.
        cache_invalidations: Tags to invalidate again once the response is ready.
        rate_limiter: The rate limiter, put here by its middleware.
        rate_limit_windows: The windows the request's limits counted it in.
        problem_code: The ``code`` of the problem the request was answered with, if
            any (the metrics count authentication failures by it).
    """

    __slots__ = (
        "_log_keys",
        "cache",
        "cache_invalidations",
        "cache_plan",
        "claims",
        "problem_code",
        "rate_limit_windows",
        "rate_limiter",
        "request_id",
        "user",
    )

    def __init__(self) -> None:
        self.request_id: str | None = None
        self.user: UserProtocol | None = None
        self.claims: TokenClaims | None = None
        self.cache: Cache | None = None
        self.cache_plan: CachePlan | None = None
        self.cache_invalidations: list[str] = []
        self.rate_limiter: RateLimiter | None = None
        self.rate_limit_windows: list[WindowState] = []
        self.problem_code: str | None = None
        self._log_keys: set[str] = set()

    @classmethod
    def of(cls, scope: Scope) -> RequestContext:
        """The context of the request ``scope`` belongs to, created on first use."""
        context = scope.get(_SCOPE_KEY)
        if context is None:
            context = scope[_SCOPE_KEY] = cls()
        return context

    def principal_id(self, scope: Scope) -> str | None:
        """Who the request is for: the authenticated user's id, as text, or ``None``.

        An app with authentication of its own names its user with
        ``request.state.user_id``: the access log and the cache see that too.
        """
        if self.user is not None:
            return str(self.user.id)
        found = scope.get("state", {}).get("user_id")
        return None if found is None else str(found)

    def bind_log_context(self, **values: Any) -> None:
        """Add ``values`` to every log event of the rest of the request.

        The request middleware takes them off again when the request ends
        ([`end_log_context`][fastapi_kit.context.RequestContext.end_log_context]).
        """
        structlog.contextvars.bind_contextvars(**values)
        self._log_keys.update(values)

    def end_log_context(self) -> None:
        """Take off what ``bind_log_context`` added during the request."""
        if self._log_keys:
            structlog.contextvars.unbind_contextvars(*self._log_keys)
            self._log_keys.clear()


@runtime_checkable
class Authenticator(Protocol):
    """What finds a request's user: the auth block's ``Auth`` is one.

    Blocks that need the user without depending on the auth block (the rate
    limiter's per-user keys) look it up by this protocol.
    """

    async def authenticate_request(self, request: Request) -> UserProtocol | None:
        """The request's user, ``None`` without credentials; raise on bad ones."""
        ...


def published(kind: type[T], service: T) -> dict[str, T]:
    """The lifespan state that publishes ``service`` as the app's ``kind``.

    ``yield published(Database, self)`` in a lifespan; requests find it with
    ``lifespan_service(scope, Database)``. The entry is named after the class,
    so the lookup is by type, never by a name chosen elsewhere.
    """
    return {_state_name(kind): service}


def lifespan_service(scope: Scope, kind: type[T]) -> T | None:
    """The ``kind`` of service the app's lifespan published, or ``None``.

    The service published as ``kind``, else the first one that is a ``kind``
    (a subclass).
    """
    state: dict[str, Any] = scope.get("state", {})
    found = state.get(_state_name(kind))
    if isinstance(found, kind):
        return found
    return next((value for value in state.values() if isinstance(value, kind)), None)


def _state_name(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


def published_authenticator(service: Authenticator) -> dict[str, Authenticator]:
    """The lifespan state that names ``service`` the app's ``Authenticator``.

    ``Auth`` publishes itself so; ``lifespan_authenticator`` then finds it with one
    lookup instead of checking every service against the protocol.
    """
    return {_state_name(Authenticator): service}


def lifespan_authenticator(scope: Scope) -> Authenticator | None:
    """The service of the app's lifespan that authenticates requests, if any."""
    state: dict[str, Any] = scope.get("state", {})
    found = state.get(_state_name(Authenticator))
    if found is not None:
        return found  # type: ignore[no-any-return]  # only published_authenticator sets it
    return next((value for value in state.values() if isinstance(value, Authenticator)), None)
