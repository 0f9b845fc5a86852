"""``RateLimitHeadersMiddleware``: the rate-limit headers, whatever the endpoint returned."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from fastapi_kit._asgi import scope_state
from fastapi_kit.ratelimit.dependencies import MIDDLEWARE_STATE_KEY, WINDOWS_STATE_KEY

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from fastapi_kit.ratelimit.limiter import WindowState

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
    the endpoint built, or the 429 problem. Installed by ``RateLimiter.install``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope_state(scope)
        state[MIDDLEWARE_STATE_KEY] = True

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                windows = state.get(WINDOWS_STATE_KEY)
                if windows:
                    headers = [
                        *message.get("headers", ()),
                        *rate_limit_headers(windows, time.time()),
                    ]
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
