"""CORS: Starlette's ``CORSMiddleware``, with refused preflights answered as problems."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.middleware import cors
from starlette.responses import PlainTextResponse

from fastapi_kit._asgi import get_header
from fastapi_kit._validation import cors_origin
from fastapi_kit.errors import ABOUT_BLANK, ProblemTypes, problem_response

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable

    from starlette.datastructures import Headers
    from starlette.responses import Response
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ("CORSMiddleware",)

#: Headers browsers may read on cross-origin responses by default.
DEFAULT_EXPOSE_HEADERS = (
    "X-Request-ID",
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-Cache",
    "ETag",
    "Location",
)


class CORSMiddleware(cors.CORSMiddleware):
    """Starlette's ``CORSMiddleware`` with the kit's defaults and problem+json refusals.

    Origins not listed get no ``Access-Control-Allow-Origin`` header, so browsers
    keep the response from them. A refused preflight is a 400 ``bad_request`` problem
    instead of Starlette's plain text; everything else is Starlette's behaviour.

    Args:
        app: The ASGI app to wrap.
        allow_origins: Allowed origins (``https://app.example.com``), or ``["*"]``.
        allow_methods: Allowed methods; every method by default.
        allow_headers: Allowed request headers; by default ``Authorization``,
            ``Content-Type``, ``X-CSRF-Token`` and ``X-Request-ID``.
        allow_credentials: Allow cookies and ``Authorization`` cross-origin. By
            default on for listed origins and off for ``"*"``; asking for it
            together with ``"*"`` is refused, since any site could then make
            credentialed requests.
        expose_headers: Response headers readable by browser code.
        max_age: How long browsers may cache a preflight answer, in seconds.
        problem_types: How refusals' ``type`` and ``title`` are named.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        allow_origins: Collection[str] = (),
        allow_methods: Collection[str] = ("*",),
        allow_headers: Collection[str] = (
            "Authorization",
            "Content-Type",
            "X-CSRF-Token",
            "X-Request-ID",
        ),
        allow_credentials: bool | None = None,
        expose_headers: Collection[str] = DEFAULT_EXPOSE_HEADERS,
        max_age: int = 600,
        problem_types: ProblemTypes = ABOUT_BLANK,
    ) -> None:
        self.problem_types = problem_types
        origins = [cors_origin(origin) for origin in allow_origins]
        if allow_credentials is None:
            allow_credentials = "*" not in origins
        elif allow_credentials and "*" in origins:
            msg = "CORS allow_credentials cannot be combined with the '*' origin"
            raise ValueError(msg)
        super().__init__(
            app,
            allow_origins=origins,
            allow_methods=allow_methods,
            allow_headers=allow_headers,
            allow_credentials=allow_credentials,
            expose_headers=expose_headers,
            max_age=max_age,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection."""
        if scope["type"] != "http" or get_header(scope, b"origin") is not None:
            await super().__call__(scope, receive, send)
            return
        # Not a CORS request: all Starlette would do is add `Vary: Origin`, so that
        # shared caches keep this answer apart from cross-origin ones. Do just that.

        async def send_with_vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _with_vary_origin(message.get("headers", ()))
            await send(message)

        await self.app(scope, receive, send_with_vary)

    def preflight_response(self, request_headers: Headers) -> Response:
        """Answer a preflight; a refusal becomes a 400 problem with the same CORS headers."""
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        return _RefusedPreflight(response, self.problem_types)


def _with_vary_origin(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    merged: list[tuple[bytes, bytes]] = []
    vary: bytes | None = None
    for name, value in headers:
        if name == b"vary":
            vary = value if vary is None else vary + b", " + value
        else:
            merged.append((name, value))
    merged.append((b"vary", b"Origin" if vary is None else vary + b", Origin"))
    return merged


class _RefusedPreflight(PlainTextResponse):
    # Starlette decides a preflight without the request scope; the problem body
    # needs it (instance, request id), so it is rendered when the response is sent.
    def __init__(self, refusal: Response, problem_types: ProblemTypes) -> None:
        super().__init__(bytes(refusal.body), status_code=refusal.status_code)
        self._problem_types = problem_types
        self._cors_headers = {
            name: value
            for name, value in refusal.headers.items()
            if name.lower().startswith("access-control-") or name.lower() == "vary"
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            scope,
            self.status_code,
            detail=bytes(self.body).decode("utf-8", "replace") + ".",
            headers=self._cors_headers,
            types=self._problem_types,
        )
        await response(scope, receive, send)
