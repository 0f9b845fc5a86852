"""``install_rate_limiter``: a ``RateLimiter`` wired into a FastAPI app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi_kit._openapi import add_openapi_processor
from fastapi_kit.ratelimit.headers import RateLimitHeadersMiddleware
from fastapi_kit.ratelimit.openapi import describe_limits

if TYPE_CHECKING:
    from fastapi import FastAPI

    from fastapi_kit.ratelimit.limiter import RateLimiter

__all__ = ("install_rate_limiter",)


def install_rate_limiter(app: FastAPI, limiter: RateLimiter) -> None:
    """Give ``app``'s limits ``limiter``, add their headers, document their 429s.

    The headers middleware receives the limiter and hands it to the request's
    limits (through the request context); start ``limiter.lifespan`` with the app
    too, or use ``kit.use_rate_limit()``, which does both.
    """
    app.add_middleware(RateLimitHeadersMiddleware, limiter=limiter)
    add_openapi_processor(
        app, "ratelimit", lambda document: describe_limits(app, document, limiter)
    )
