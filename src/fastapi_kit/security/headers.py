"""Pure ASGI middleware that adds security headers to every response."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ("DEFAULT_SECURITY_HEADERS", "SecurityHeadersMiddleware")

#: The headers every response carries unless the app set its own value.
DEFAULT_SECURITY_HEADERS: Mapping[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


class SecurityHeadersMiddleware:
    """Add security headers to every HTTP response, error responses included.

    A header the app already set on a response is left alone, so a route can relax
    one deliberately.

    Args:
        app: The ASGI app to wrap.
        headers: The headers to add; ``DEFAULT_SECURITY_HEADERS`` when omitted. Pass a
            merged mapping to add more (``Strict-Transport-Security`` once you serve
            only HTTPS, say).
    """

    def __init__(self, app: ASGIApp, *, headers: Mapping[str, str] | None = None) -> None:
        self.app = app
        chosen = DEFAULT_SECURITY_HEADERS if headers is None else headers
        self._headers = tuple(
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in chosen.items()
        )
        self._names = frozenset(name for name, _ in self._headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", ())
                added = self._headers
                for name, _ in headers:  # ASGI header names are lower-case
                    if name in self._names:  # the app set one itself: keep its value
                        present = {name for name, _ in headers}
                        added = tuple(pair for pair in added if pair[0] not in present)
                        break
                # A new list: the old one may belong to a Response that is sent again.
                message["headers"] = [*headers, *added]
            await send(message)

        await self.app(scope, receive, send_with_headers)
