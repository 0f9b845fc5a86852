"""``install_metrics``: the ``GET /metrics`` route, behind a token when one is set."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from fastapi_kit._asgi import get_header
from fastapi_kit.errors import ABOUT_BLANK, problem_response

if TYPE_CHECKING:
    from fastapi import FastAPI
    from pydantic import SecretStr
    from starlette.requests import Request

    from fastapi_kit.errors import ProblemTypes
    from fastapi_kit.metrics.registry import Metrics

__all__ = ("install_metrics",)


def install_metrics(
    app: FastAPI,
    metrics: Metrics,
    *,
    token: SecretStr | None = None,
    path: str = "/metrics",
    problem_types: ProblemTypes = ABOUT_BLANK,
) -> None:
    """Serve ``metrics`` at ``GET path``: not in OpenAPI, not rate limited, not cached.

    Args:
        app: The application.
        metrics: What to expose.
        token: When set, scrapes must send ``Authorization: Bearer <token>``
            (``METRICS_TOKEN``); others get 401.
        path: Where.
        problem_types: How the 401's problem type is named.
    """
    expected = None if token is None else f"Bearer {token.get_secret_value()}".encode()

    async def expose(request: Request) -> Response:
        if expected is not None:
            sent = get_header(request.scope, b"authorization") or b""
            if not hmac.compare_digest(sent, expected):
                return problem_response(
                    request.scope,
                    401,
                    detail="Send the metrics token as a Bearer token.",
                    headers={"WWW-Authenticate": "Bearer"},
                    types=problem_types,
                )
        if metrics.multiprocess_dir is None:
            body, content_type = metrics.exposition()
        else:  # reads every worker's files: off the event loop
            body, content_type = await run_in_threadpool(metrics.exposition)
        return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})

    app.add_route(path, expose, methods=["GET"], include_in_schema=False)
