"""Allowed ``Host`` headers: Starlette's ``TrustedHostMiddleware``, refusing with a problem."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.middleware.trustedhost import TrustedHostMiddleware

from fastapi_kit._asgi import get_header
from fastapi_kit._validation import allowed_host
from fastapi_kit.errors import ABOUT_BLANK, ProblemTypes, problem_response

if TYPE_CHECKING:
    from collections.abc import Sequence

    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ("AllowedHostsMiddleware",)

_ACCEPTED = "fastapi_kit.host_accepted"
# Verdicts are remembered per raw Host value (a handful in practice); the cache is
# emptied when full, so hostile random hosts cost time, never memory.
_MAX_REMEMBERED_HOSTS = 256


async def _mark_accepted(scope: Scope, _receive: Receive, _send: Send) -> None:
    scope[_ACCEPTED] = True


async def _discard(_message: Message) -> None:
    return None


class AllowedHostsMiddleware:
    """Refuse requests whose ``Host`` header is not allowed with a 400 ``bad_request`` problem.

    The matching (``*`` for any host, ``*.example.com`` for subdomains, exact names
    and IP addresses, ports ignored) is Starlette's ``TrustedHostMiddleware``, run as
    a judge in front of the app, and its verdict remembered per ``Host`` value; only
    its plain-text refusal is replaced by the kit's problem+json. WebSocket handshakes
    from other hosts are closed (1008).

    Args:
        app: The ASGI app to wrap.
        allowed_hosts: Accepted host patterns; ``["*"]`` accepts every host.
        problem_types: How refusals' ``type`` and ``title`` are named.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        allowed_hosts: Sequence[str] = ("*",),
        problem_types: ProblemTypes = ABOUT_BLANK,
    ) -> None:
        self.app = app
        self.problem_types = problem_types
        patterns = [allowed_host(pattern) for pattern in allowed_hosts]
        self._judge = TrustedHostMiddleware(
            _mark_accepted, allowed_hosts=patterns, www_redirect=False
        )
        self.allow_any = self._judge.allow_any
        self._verdicts: dict[bytes | None, bool] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection."""
        if self.allow_any or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = get_header(scope, b"host")
        accepted = self._verdicts.get(host)
        if accepted is None:
            await self._judge(scope, receive, _discard)
            accepted = scope.pop(_ACCEPTED, False)
            if len(self._verdicts) >= _MAX_REMEMBERED_HOSTS:
                self._verdicts.clear()
            self._verdicts[host] = accepted
        if accepted:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            await problem_response(
                scope, 400, detail="Invalid host header.", types=self.problem_types
            )(scope, receive, send)
