"""``limit``: a rate limit as a dependency or a decorator; ``exempt`` from default limits."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias, TypeVar

from fastapi import Request
from limits import parse_many

from fastapi_kit._depends import DependencyDecorator
from fastapi_kit.context import RequestContext
from fastapi_kit.errors import RateLimited
from fastapi_kit.ratelimit.keys import KeyFunc, client_ip, form_field, user_or_ip
from fastapi_kit.ratelimit.limiter import (
    STORAGE_ERRORS,
    FailurePolicy,
    Hit,
    RateLimiter,
    WindowState,
)
from fastapi_kit.ratelimit.slowapi import SlowapiError, slowapi_limit

if TYPE_CHECKING:
    from limits import RateLimitItem

__all__ = (
    "AppLimits",
    "Budget",
    "Limit",
    "RateLimitExceeded",
    "auth_limits",
    "default_limit",
    "default_limits",
    "exempt",
    "get_rate_limiter",
    "limit",
    "login_limit",
)

F = TypeVar("F", bound=Callable[..., Any])

_EXEMPT_ATTRIBUTE = "_fastapi_kit_ratelimit_exempt"

#: Limits an app configures, read from its ``RateLimiter`` when a request comes.
AppLimits: TypeAlias = Callable[[RateLimiter], str]


def default_limits(limiter: RateLimiter) -> str:
    """The app's default limits (``RATE_LIMIT_DEFAULT``): ``limit(default_limits)``."""
    return limiter.default_limits


def auth_limits(limiter: RateLimiter) -> str:
    """The app's limits on logins and registrations (``RATE_LIMIT_AUTH``)."""
    return limiter.auth_limits


class _Parsed(NamedTuple):
    items: tuple[RateLimitItem, ...]
    policies: tuple[tuple[tuple[RateLimitItem, str], ...], ...]


#: ``request -> cost`` (sync or async), or a fixed cost.
Cost: TypeAlias = int | Callable[[Request], int | Awaitable[int]]
#: ``request -> bool`` (sync or async): ``True`` skips the limit for this request.
ExemptWhen: TypeAlias = Callable[[Request], bool | Awaitable[bool]]


class RateLimitExceeded(RateLimited, SlowapiError):  # type: ignore[misc]  # APIError's attributes win
    """A request over a rate limit: 429 ``rate_limited`` with ``Retry-After``.

    The name is slowapi's, and so is the class: it is a
    ``slowapi.errors.RateLimitExceeded`` too, so an app's handler for slowapi's
    exception (``_rate_limit_exceeded_handler``) still answers it when the kit's
    handlers are not installed. With them, the ``APIError`` handler comes first in
    the class's MRO: the response is the kit's problem+json envelope, with
    ``Cache-Control: no-store`` and the ``X-RateLimit-*`` headers. Being an
    ``HTTPException`` too, it goes to a handler an app registered for the status
    code 429 first, as Starlette does for every ``HTTPException``.

    Attributes:
        window: The limit that refused the request and where it stands.
        limit: slowapi's ``Limit`` for that window (``limit.limit`` is its
            ``RateLimitItem``), for handlers written for slowapi.
    """

    def __init__(self, window: WindowState) -> None:
        super().__init__(
            f"Rate limit exceeded: {window.item}.",
            retry_after=window.seconds_to_reset(),
            headers={"Cache-Control": "no-store"},
        )
        self.window = window
        self.limit = slowapi_limit(window)


def get_rate_limiter(request: Request) -> RateLimiter:
    """Return the app's [`RateLimiter`][fastapi_kit.ratelimit.RateLimiter].

    Its headers middleware hands it to the request (through the request context).

    Raises:
        RuntimeError: The limiter's middleware is missing (a 500, logged).
    """
    limiter = RequestContext.of(request.scope).rate_limiter
    if limiter is None:
        msg = (
            "rate limits need a RateLimiter and its middleware: kit.use_rate_limit(), or "
            "FastAPI(lifespan=limiter.lifespan) and install_rate_limiter(app, limiter)"
        )
        raise RuntimeError(msg)
    return limiter


class Budget(NamedTuple):
    """Whose budget a request counts against: a key function, in a scope."""

    #: ``request -> key``: ``user_or_ip``, ``client_ip``, ...
    key: KeyFunc
    #: Routes limited in the same scope share the budget; ``None``: the route's own.
    scope: str | None = None


class Limit(DependencyDecorator):
    """One or more limits on a route or a group of routes (see ``limit``).

    Each request is counted against every window of ``limits`` in each budget,
    in one check (one round trip with Redis); a window that refuses it does not
    count it.

    Args:
        limits: ``limits``' notation, ``;``-separated windows.
        budgets: Whose budgets a request counts against, each with every window.
        cost: See ``limit``.
        exempt_when: See ``limit``.
        on_error: See ``limit``.
        default: The router-wide default (``default_limit``): ``@exempt`` endpoints
            skip it.
    """

    def __init__(
        self,
        limits: str | AppLimits,
        *,
        budgets: Sequence[Budget] = (Budget(user_or_ip),),
        cost: Cost = 1,
        exempt_when: ExemptWhen | None = None,
        on_error: FailurePolicy | None = None,
        default: bool = False,
    ) -> None:
        self.limits = limits
        self.budgets = tuple(budgets)
        self.cost = cost
        self.exempt_when = exempt_when
        self.on_error = on_error
        self.default = default
        #: Each limits text's windows, and each budget's windows with their names
        #: in the ``RateLimit`` headers: parsed once per text.
        self._parsed: dict[str, _Parsed] = {}
        if isinstance(limits, str):
            self._parse(limits)  # bad notation fails at import time, not per request

        async def check(request: Request) -> None:
            await self.check(request)

        self.__wrapped__ = check

    @property
    def items(self) -> tuple[RateLimitItem, ...]:
        """The windows of a limit given as text (``limit("5/minute")``)."""
        return self.items_for(None)

    def items_for(self, limiter: RateLimiter | None) -> tuple[RateLimitItem, ...]:
        """The windows this limit applies in an app with ``limiter``."""
        return self._parse(self._text(limiter)).items

    def _text(self, limiter: RateLimiter | None) -> str:
        if isinstance(self.limits, str):
            return self.limits
        if limiter is None:
            msg = f"{self!r} takes its limits from the app's RateLimiter, and there is none"
            raise RuntimeError(msg)
        return self.limits(limiter)

    def _parse(self, text: str) -> _Parsed:
        parsed = self._parsed.get(text)
        if parsed is None:
            items = tuple(parse_many(text))
            policies = tuple(_policies(items, budget.scope or "route") for budget in self.budgets)
            parsed = self._parsed[text] = _Parsed(items, policies)
        return parsed

    async def check(self, request: Request) -> None:
        """Count ``request``; raise ``RateLimitExceeded`` when a limit refuses it.

        Raises:
            RateLimitExceeded: Over a limit.
            ServiceUnavailable: The counters failed and this limit fails closed.
        """
        limiter = get_rate_limiter(request)
        if await self._exempt(request):
            return
        cost = self.cost if isinstance(self.cost, int) else await _resolve(self.cost(request))
        hits: list[Hit] = []
        parsed = self._parse(self._text(limiter))
        for budget, policies in zip(self.budgets, parsed.policies, strict=True):
            identifiers = (
                self._scope_of(request, budget.scope),
                _escape(await _resolve(budget.key(request))),
            )
            hits.extend(Hit(item, identifiers, cost, policy) for item, policy in policies)
        try:
            windows = await limiter.hit(hits)
        except STORAGE_ERRORS as exc:
            limiter.storage_failed(exc, self.on_error)
            return
        RequestContext.of(request.scope).rate_limit_windows.extend(windows)
        refused = [window for window in windows if not window.allowed]
        if refused:
            request.state.view_rate_limit = None  # slowapi's 429 handler reads it
            raise RateLimitExceeded(max(refused, key=lambda window: window.reset_at))

    async def _exempt(self, request: Request) -> bool:
        if self.default and getattr(request.scope.get("endpoint"), _EXEMPT_ATTRIBUTE, False):
            return True
        return self.exempt_when is not None and bool(await _resolve(self.exempt_when(request)))

    @staticmethod
    def _scope_of(request: Request, scope: str | None) -> str:
        if scope is not None:
            return _escape(scope)
        endpoint = request.scope.get("endpoint")
        name = getattr(endpoint, "__qualname__", None) or request.scope.get("path", "")
        return _escape(f"{getattr(endpoint, '__module__', '')}.{name}")

    def describe(self, limiter: RateLimiter | None = None) -> str:
        """The limits, for humans and OpenAPI: ``5 per 1 minute, 100 per 1 day (this route)``."""
        budgets = " and ".join(budget.scope or "this route" for budget in self.budgets)
        return f"{', '.join(str(item) for item in self.items_for(limiter))} ({budgets})"

    def __repr__(self) -> str:
        return f"limit({self.limits!r})"


def limit(
    limits: str | AppLimits,
    *,
    key: KeyFunc = user_or_ip,
    scope: str | None = None,
    cost: Cost = 1,
    exempt_when: ExemptWhen | None = None,
    on_error: FailurePolicy | None = None,
) -> Limit:
    """Rate-limit a route: ``Depends(limit("10/minute"))``, or ``@limit("10/minute")``.

    Args:
        limits: slowapi's (``limits``') notation; several limits separated by ``;``
            (``"5/minute;100/day"``) are all enforced. Or the app's own, read from
            its ``RateLimiter`` per request: ``auth_limits`` (``RATE_LIMIT_AUTH``),
            ``default_limits`` (``RATE_LIMIT_DEFAULT``).
        key: Whose budget a request counts against: ``user_or_ip`` (default),
            ``user_id``, ``client_ip``, ``form_field("username")``, or any
            ``request -> str`` (sync or async).
        scope: Share one budget between every route limited with this scope; by
            default each route has its own.
        cost: How much a request uses, or ``request -> int``.
        exempt_when: ``request -> bool``: ``True`` skips the limit for the request.
        on_error: When the counters cannot be reached: ``"open"`` lets the request
            through (logged and counted), ``"closed"`` answers 503; the limiter's
            policy when ``None``.

    Raises:
        ValueError: ``limits`` is not valid notation (at import time, not per request).
    """
    return Limit(
        limits, budgets=[Budget(key, scope)], cost=cost, exempt_when=exempt_when, on_error=on_error
    )


def default_limit(limits: str | AppLimits = default_limits, *, key: KeyFunc = user_or_ip) -> Limit:
    """One budget (scope ``default``) for every route it guards, except ``@exempt`` ones.

    Give it to a router or the app: ``APIRouter(dependencies=[Depends(default_limit())])``.
    Keyed per user when authenticated, per client address otherwise. A route's own
    limits apply as well. Without ``limits``, the app's default limits apply
    (``RATE_LIMIT_DEFAULT``, read from the ``RateLimiter`` when a request comes), so
    a module-level router needs no settings.
    """
    return Limit(limits, budgets=[Budget(key, "default")], default=True)


def login_limit(
    limits: str | AppLimits = auth_limits,
    *,
    field: str = "username",
    normalize: Callable[[str], str] | None = None,
) -> Limit:
    """The limit of a login route: one budget per client address, one per account name.

    ``dependencies=[Depends(login_limit("10/minute"))]`` on the token route: a client
    cannot try many accounts, and an account cannot be tried from many addresses,
    faster than ``limits``. It fails closed (503) when the counters cannot be reached.

    Args:
        limits: The limits of each budget; the app's (``RATE_LIMIT_AUTH``) by default.
        field: The form or JSON field holding the account name.
        normalize: Maps the spellings of one account name to one budget (see
            ``form_field``); lower case by default.
    """
    return Limit(
        limits,
        budgets=[
            Budget(client_ip, "login-ip"),
            Budget(form_field(field, normalize=normalize), "login-account"),
        ],
        on_error="closed",
    )


def exempt(endpoint: F) -> F:
    """Exempt an endpoint from the limiter's default limit (its own limits still apply).

    Put it below the route decorator.
    """
    setattr(endpoint, _EXEMPT_ATTRIBUTE, True)
    return endpoint


def _policies(items: tuple[RateLimitItem, ...], name: str) -> tuple[tuple[RateLimitItem, str], ...]:
    if len(items) == 1:
        return ((items[0], name),)
    return tuple((item, f"{name}-{i}") for i, item in enumerate(items))


async def _resolve(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _escape(part: str) -> str:
    # limits joins key parts with "/": keep them from running into each other.
    return part.replace("%", "%25").replace("/", "%2F")
