"""OpenAPI for limited operations: their 429 response and what limits them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi_kit._openapi import dependency_calls, documented_routes, operations_of
from fastapi_kit.errors import PROBLEM_JSON, problem_responses
from fastapi_kit.ratelimit.dependencies import Limit, RateLimitExceeded

if TYPE_CHECKING:
    from fastapi import FastAPI

    from fastapi_kit.ratelimit.limiter import RateLimiter

__all__ = ("describe_limits",)


def describe_limits(
    app: FastAPI, document: dict[str, Any], limiter: RateLimiter | None = None
) -> None:
    """Give every rate-limited operation of ``app`` its 429 response and its limits.

    Limits the app configures (``default_limit()``) are read from ``limiter``.
    """
    for route in documented_routes(app):
        limits = [call for call in dependency_calls(route.dependant) if isinstance(call, Limit)]
        if not limits:
            continue
        too_many = problem_responses(RateLimitExceeded)[429]
        example = too_many["content"][PROBLEM_JSON]["example"]
        example["detail"] = f"Rate limit exceeded: {limits[0].items_for(limiter)[0]}."
        note = f"**Rate limited**: {'; '.join(found.describe(limiter) for found in limits)}."
        for operation in operations_of(document, route):
            operation.setdefault("responses", {}).setdefault("429", too_many)
            operation["description"] = "\n\n".join(
                part for part in (operation.get("description"), note) if part
            )
