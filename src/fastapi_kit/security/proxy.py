"""The client's real IP address, believed from ``X-Forwarded-For`` only via trusted proxies."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware as _UvicornProxyHeaders

from fastapi_kit._validation import trusted_proxy

if TYPE_CHECKING:
    from collections.abc import Sequence

    from starlette.types import ASGIApp, Scope

__all__ = ("ProxyHeadersMiddleware", "client_ip")


class ProxyHeadersMiddleware(_UvicornProxyHeaders):
    """Set the request's client address from ``X-Forwarded-For``, only behind trusted proxies.

    This is uvicorn's ``ProxyHeadersMiddleware`` (also honours ``X-Forwarded-Proto``),
    with its input checked: each entry must be an IP address or CIDR network, so a
    typo fails at start-up instead of silently trusting nothing. ``*`` and networks
    of every address are refused: uvicorn then takes the left-most
    ``X-Forwarded-For`` entry, which the client writes.

    When the peer is a trusted proxy, the client is the right-most address in
    ``X-Forwarded-For`` that is not itself a trusted proxy: entries a client wrote
    to the left of it are ignored. From any other peer the header is ignored
    entirely, as are ``X-Real-IP`` and header spellings with underscores.
    Afterwards ``request.client.host`` (and [`client_ip`][fastapi_kit.security.client_ip])
    is the address rate limiting and logs use.

    Args:
        app: The ASGI app to wrap.
        trusted_proxies: IP addresses and CIDR networks of your proxies.
    """

    def __init__(self, app: ASGIApp, *, trusted_proxies: Sequence[str]) -> None:
        super().__init__(
            app,  # type: ignore[arg-type]  # uvicorn's precise ASGI types vs Starlette's
            trusted_hosts=[trusted_proxy(entry) for entry in trusted_proxies],
        )


def client_ip(connection: HTTPConnection | Scope) -> str | None:
    """Return the client's IP address as the kit resolved it, or ``None`` if unknown.

    Args:
        connection: A Starlette ``Request``/``WebSocket`` or a raw ASGI scope.
    """
    scope = connection.scope if isinstance(connection, HTTPConnection) else connection
    client = scope.get("client")
    return client[0] if client else None
