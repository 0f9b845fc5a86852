"""Key functions: whose budget a request counts against.

A key function takes the ``Request`` and returns a string (or awaits one). The
client address is the peer's, or the one a trusted proxy reported: the kit's proxy
middleware rewrites it only for ``TRUSTED_PROXIES``, so ``X-Forwarded-For`` from
anyone else changes nothing.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
from collections.abc import Awaitable, Callable
from typing import TypeAlias

from slowapi.util import get_remote_address
from starlette.requests import Request

from fastapi_kit.context import RequestContext, lifespan_authenticator
from fastapi_kit.errors import APIError, NotAuthenticated
from fastapi_kit.ratelimit.limiter import DEFAULT_IPV6_PREFIX

__all__ = ("KeyFunc", "client_ip", "client_network", "form_field", "user_id", "user_or_ip")

#: ``request -> key``, sync or async.
KeyFunc: TypeAlias = Callable[[Request], str | Awaitable[str]]


def client_network(address: str, ipv6_prefix: int = DEFAULT_IPV6_PREFIX) -> str:
    """The budget an address counts against: IPv4 as is, IPv6 by network prefix.

    One IPv6 client usually holds a whole ``/64`` (2^64 addresses), so keying by the
    full address would give it as many budgets. Addresses are normalised first, so
    ``2001:0DB8::0001`` and ``2001:db8::1`` are one client. An IPv6 address that
    carries an IPv4 client — IPv4-mapped (``::ffff:192.0.2.1``), NAT64
    (``64:ff9b::192.0.2.1``), 6to4 (``2002:c000:201::``), Teredo — counts as that
    IPv4 address, so neither one IPv4 client gets a budget per IPv6 spelling nor
    every NAT64 client shares one. A zone (``%eth0``), brackets and a port are
    dropped; anything else that is not an IP address (a Unix socket's peer) is
    returned lower-cased.

    Args:
        address: The client's address as the server or a proxy reported it.
        ipv6_prefix: Leading bits of an IPv6 address that name one client.
    """
    ip = _parse_address(address)
    if ip is None:
        return address.lower()
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return str(embedded)
        return str(ipaddress.IPv6Network((ip, ipv6_prefix), strict=False))
    return str(ip)


def _parse_address(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = address.strip()
    if text.startswith("["):  # [2001:db8::1] or [2001:db8::1]:443
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # 192.0.2.1:443
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text.partition("%")[0])
    except ValueError:
        return None


#: ``client_network`` for the request path: a client's next requests skip the parsing.
_network_of = functools.lru_cache(maxsize=4096)(client_network)

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64 or ip in _IPV4_TRANSLATED:
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # (server, client)
    return None


def client_ip(request: Request) -> str:
    """The client's address: ``ip:<address>``, IPv6 clients by network (see ``client_network``).

    The address is slowapi's ``get_remote_address``; the IPv6 prefix is the app's
    ``RateLimiter.ipv6_prefix`` (``RATE_LIMIT_IPV6_PREFIX``, a ``/64`` by default).
    """
    limiter = RequestContext.of(request.scope).rate_limiter
    prefix = DEFAULT_IPV6_PREFIX if limiter is None else limiter.ipv6_prefix
    return f"ip:{_network_of(get_remote_address(request), prefix)}"


async def user_or_ip(request: Request) -> str:
    """The authenticated user (``user:<id>``), else the client's address.

    Authenticates the request if nothing has yet (the result is shared with
    ``CurrentUser``, so the token is read once). Credentials that do not
    authenticate count against the address; the route's own authentication still
    answers them with its 401.
    """
    found = RequestContext.of(request.scope).principal_id(request.scope)
    if found is None:
        authenticator = lifespan_authenticator(request.scope)
        if authenticator is not None:
            try:
                user = await authenticator.authenticate_request(request)
            except APIError:
                return client_ip(request)
            found = None if user is None else str(user.id)
    return client_ip(request) if found is None else f"user:{found}"


async def user_id(request: Request) -> str:
    """The authenticated user (``user:<id>``), for routes that require one.

    Authenticates the request if nothing has yet: without credentials it is a 401
    ``not_authenticated``, with bad ones a 401 ``invalid_token``, before any counting.
    """
    found = RequestContext.of(request.scope).principal_id(request.scope)
    if found is None:
        authenticator = lifespan_authenticator(request.scope)
        if authenticator is None:
            msg = "user_id needs authentication: call kit.use_auth(...) before kit.install(app)"
            raise RuntimeError(msg)
        user = await authenticator.authenticate_request(request)
        if user is None:
            raise NotAuthenticated("Authentication required.")
        found = str(user.id)
    return f"user:{found}"


def form_field(
    name: str = "username", *, normalize: Callable[[str], str] | None = None
) -> Callable[[Request], Awaitable[str]]:
    """Key by a submitted form or JSON field, such as the account name of a login.

    The value is trimmed, lower-cased (or passed to ``normalize``: give the function
    that maps an account name's variants to one, such as ``email_key``, so that
    spelling an address differently does not buy another budget) and hashed (no
    account names in Redis); a
    request without it, or whose JSON cannot be parsed (invalid, or nested deeper
    than Python's stack), gets the key of an empty value, and the endpoint's own
    parsing answers the client with its 4xx. A malformed multipart form is a 400.
    """

    async def key(request: Request) -> str:
        if _is_json(request.headers.get("content-type", "")):
            try:
                body = await request.json()
            except (ValueError, RecursionError):  # not JSON, or nested past the stack
                body = None
            value = body.get(name) if isinstance(body, dict) else None
        else:
            value = (await request.form()).get(name)
        text = value.strip() if isinstance(value, str) else ""
        text = normalize(text) if normalize is not None else text.lower()
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        return f"{name}:{digest[:32]}"

    return key


def _is_json(content_type: str) -> bool:
    """Whether FastAPI reads a body of ``content_type`` as JSON (``application/*+json`` too)."""
    main, _, sub = content_type.partition(";")[0].strip().lower().partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))
