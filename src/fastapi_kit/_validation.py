"""Validators shared by ``KitSettings`` and the middleware that take the same values."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:\d{1,5})?")
_HOST_PATTERN = re.compile(r"(\*\.)?[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\]")


# The widest networks accepted as proxies: a /8 (10.0.0.0/8), a /7 (fc00::/7, unique
# local addresses). Wider ones hold public clients, who would then write their own
# address; and a few of them together trust everyone (0.0.0.0/1 and 128.0.0.0/1).
_NARROWEST_TRUSTED = {4: 8, 6: 7}


def trusted_proxy(value: str) -> str:
    """Return ``value`` normalised if it is an IP address or a CIDR network.

    Raises:
        ValueError: Anything else. Host names are not accepted (they cannot be
            compared with a peer address safely), and neither are ``*`` nor
            networks wider than a ``/8`` (IPv4) or a ``/7`` (IPv6): trusting
            public peers lets them write their own address into
            ``X-Forwarded-For``.
    """
    value = value.strip()
    if value != "*":
        try:
            if "/" not in value:
                return str(ipaddress.ip_address(value))
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            msg = f"trusted proxy {value!r} is not an IP address or CIDR network"
            raise ValueError(msg) from None
        if network.prefixlen >= _NARROWEST_TRUSTED[network.version]:
            return str(network)
    msg = (
        f"trusted proxy {value!r} would trust every client's X-Forwarded-For: "
        "list your proxies' addresses or networks"
    )
    raise ValueError(msg)


def allowed_host(value: str) -> str:
    """Return ``value`` if it is ``*``, a host name, ``*.domain`` or an IP address.

    Raises:
        ValueError: For anything else, ports and wildcards inside names included.
    """
    value = value.strip().lower()
    if value == "*" or _HOST_PATTERN.fullmatch(value):
        return value
    msg = f"allowed host {value!r} must be '*', a host name, '*.example.com' or an IP address"
    raise ValueError(msg)


def cors_origin(value: str) -> str:
    """Return ``value`` if it is ``*`` or an origin (``scheme://host[:port]``, no path).

    Raises:
        ValueError: For anything else, a trailing slash included (browsers never
            send one, so such an entry would silently match nothing).
    """
    value = value.strip()
    if value == "*" or _ORIGIN.fullmatch(value):
        return value
    msg = f"CORS origin {value!r} must be '*' or like 'https://app.example.com[:port]'"
    raise ValueError(msg)


def problem_type_base(value: str) -> str:
    """Return ``value`` if it can prefix problem type URIs.

    An ``http(s)`` URI without a query, ending in ``/`` (``.../problems/``) or ``#``
    (``.../problems.html#``), so that the code appended names a page or a section.

    Raises:
        ValueError: For anything else.
    """
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or parts.query
        or parts.fragment
        or not value.endswith(("/", "#"))
    ):
        msg = (
            f"problem type base {value!r} must be an http(s) URI without a query, "
            "ending in '/' or '#'"
        )
        raise ValueError(msg)
    return value
