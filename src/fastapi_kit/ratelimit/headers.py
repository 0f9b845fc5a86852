"""``RateLimitHeadersMiddleware``: the rate-limit headers, whatever the endpoint returned."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from fastapi_kit.context import RequestContext

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from fastapi_kit.ratelimit.limiter import RateLimiter, WindowState

__all__ = ("RateLimitHeadersMiddleware", "rate_limit_headers")


def rate_limit_headers(windows: list[WindowState], now: float) -> list[tuple[bytes, bytes]]:
    """The headers describing ``windows`` (the limits one request was counted against).

    ``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset`` (epoch seconds) describe the
    tightest limit, the one with the fewest requests left; the IETF draft's
    ``RateLimit-Policy`` lists every limit and ``RateLimit`` the tightest one.
    """
    tightest = min(windows, key=lambda window: (window.remaining, -window.reset_at))
    reset_in = max(0, int(tightest.reset_at - now + 0.999))
    policies = ", ".join(
        f'"{w.policy}";q={w.item.amount};w={w.item.get_expiry()}'
        for w in {w.policy: w for w in windows}.values()
    )
    return [
        (b"x-ratelimit-limit", str(tightest.item.amount).encode()),
        (b"x-ratelimit-remaining", str(tightest.remaining).encode()),
        (b"x-ratelimit-reset", str(int(now) + reset_in).encode()),
        (b"ratelimit-policy", policies.encode()),
        (b"ratelimit", f'"{tightest.policy}";r={tightest.remaining};t={reset_in}'.encode()),
    ]


class RateLimitHeadersMiddleware:
    """Add the rate-limit headers to responses of requests that a limit counted.

    Pure ASGI, so the headers reach every response: a model, a dict, a ``Response``
    the endpoint built, or the 429 problem. Installed by
    [`install_rate_limiter`][fastapi_kit.ratelimit.install_rate_limiter].

    Args:
        app: The ASGI app to wrap.
        limiter: The limiter; the request's limits find it through the request context.
    """

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter
        limiter.middleware_installed = True  # the stack is built before the lifespan runs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        context = RequestContext.of(scope)
        context.rate_limiter = self.limiter

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                windows = context.rate_limit_windows
                if windows:
                    headers = [
                        *message.get("headers", ()),
                        *rate_limit_headers(windows, time.time()),
                    ]
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
