"""Transports: where a request carries its token, and how a login answers.

A transport reads the credential from a request and writes the login and logout
responses; it knows nothing of what the token means (that is the
[strategy][fastapi_kit.auth.JWTStrategy]'s business). The kit has two:

* [`BearerTransport`][fastapi_kit.auth.BearerTransport]: ``Authorization: Bearer``;
  a login answers with the OAuth2 token response.
* [`CookieTransport`][fastapi_kit.auth.CookieTransport]: an ``HttpOnly`` session
  cookie with a double-submit CSRF token; a login sets both cookies.
"""

from __future__ import annotations

import hmac
import secrets
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, Response

from fastapi_kit._asgi import get_header
from fastapi_kit.errors import CSRFFailed, InvalidToken, NotAuthenticated

if TYPE_CHECKING:
    from starlette.requests import Request

    from fastapi_kit.auth.config import AuthConfig
    from fastapi_kit.auth.tokens import TokenPair

__all__ = ("BearerTransport", "CookieTransport", "TokenResponse", "Transport")

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class Transport(Protocol):
    """Where a request carries its credential, and how logins and logouts answer."""

    def read(self, request: Request) -> str | None:
        """The request's credential, or ``None`` when it carries none this way.

        Raises:
            NotAuthenticated: The credential is of another kind (401).
            InvalidToken: The credential is malformed (401).
        """
        ...

    def check(self, request: Request) -> None:
        """Checks a request carrying a credential this way must pass (CSRF, say).

        Called before the strategy reads the credential: a request refused here
        costs no token check or store lookup.
        """
        ...

    def login_response(self, pair: TokenPair) -> Response:
        """The answer to a successful login: the tokens, the way this transport sends them."""
        ...

    def logout_response(self) -> Response:
        """The answer to a logout (204), forgetting what ``login_response`` sent."""
        ...


class TokenResponse(BaseModel):
    """The body of a successful login or refresh (OAuth2 token response)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsInR5"
                    "cGUiOiJhY2Nlc3MifQ.k3Cv1W4sZ5hQ9yTq2o8Bf0uE7rXnL6mDpA1gJ4cS9wY",
                    "refresh_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsInR5"
                    "cGUiOiJyZWZyZXNoIn0.Xw2R8pT5vM1nQ7bK4yH9cJ6eL3aF0sD2gZ8uV5iN1oE",
                    "token_type": "bearer",
                    "expires_in": 900,
                }
            ]
        }
    )

    access_token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    refresh_token: str = Field(description="Exchange at the refresh route; usable once.")
    token_type: str = Field("bearer", description="Always `bearer`.")
    expires_in: int = Field(description="Seconds the access token is valid for.")


class BearerTransport:
    """``Authorization: Bearer <token>``; logins answer with the OAuth2 token response.

    Tokens in query strings are never read.
    """

    def read(self, request: Request) -> str | None:
        """The bearer token, or ``None`` without an ``Authorization`` header.

        Raises:
            NotAuthenticated: Another scheme (``Basic``, say).
            InvalidToken: An empty or malformed token.
        """
        header = get_header(request.scope, b"authorization")
        if header is None:
            return None
        scheme, _, credentials = header.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer":
            raise NotAuthenticated("Use a Bearer token.")
        token = credentials.strip()
        if not token or " " in token:
            raise InvalidToken("Malformed Authorization header.")
        return token

    def check(self, request: Request) -> None:
        """Nothing to check: a browser never adds the header by itself."""

    @staticmethod
    def login_response(pair: TokenPair) -> JSONResponse:
        """The OAuth2 token response for ``pair``, with ``Cache-Control: no-store``."""
        body = TokenResponse(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            expires_in=pair.expires_in,
        )
        return JSONResponse(body.model_dump(), headers=_NO_STORE)

    @staticmethod
    def logout_response() -> Response:
        """204: the client forgets its tokens."""
        return Response(status_code=204, headers=_NO_STORE)


class CookieTransport:
    """An ``HttpOnly`` session cookie, with a double-submit CSRF token.

    A login sets the session cookie (the access token) and a readable CSRF cookie;
    unsafe requests authenticated by the cookie must repeat the CSRF cookie's value
    in the CSRF header (403 ``csrf_failed`` otherwise). Cookie logins and logouts
    are refused from other sites ([`check_origin`][fastapi_kit.auth.CookieTransport.check_origin]).

    Args:
        config: The cookie and header names, ``Secure``, the domain, the lifetime
            and the trusted origins.
    """

    def __init__(self, config: AuthConfig) -> None:
        self.config = config
        self._trusted_origins = frozenset(
            origin
            for origin in map(_normalized_origin, config.trusted_origins)
            if origin is not None
        )

    def read(self, request: Request) -> str | None:
        """The session cookie's token, or ``None`` without one."""
        return request.cookies.get(self.config.session_cookie)

    def check(self, request: Request) -> None:
        """Unsafe methods must repeat the CSRF cookie in the CSRF header.

        Raises:
            CSRFFailed: They do not (403).
        """
        if request.method in _SAFE_METHODS:
            return
        config = self.config
        expected = request.cookies.get(config.csrf_cookie, "")
        sent = request.headers.get(config.csrf_header_name, "")
        if not expected or not hmac.compare_digest(expected.encode(), sent.encode()):
            raise CSRFFailed(
                f"Send the {config.csrf_cookie} cookie's value in "
                f"the {config.csrf_header_name} header."
            )

    def check_origin(self, request: Request) -> None:
        """Refuse a cookie login or logout another site made the browser send (403).

        A cross-site form could otherwise log the victim into the attacker's account
        (login CSRF), or out of their own. Browsers say where a request comes from:

        * ``Sec-Fetch-Site: same-origin`` (or ``none``, typed by the user) passes;
        * otherwise ``Origin`` must be the app's own (scheme and ``Host``) or one of
          ``config.trusted_origins``; ``Origin: null`` never passes;
        * a request with neither header is not a browser's, and passes.

        Raises:
            CSRFFailed: The request comes from another origin.
        """
        site = get_header(request.scope, b"sec-fetch-site")
        if site in (b"same-origin", b"none"):
            return
        origin = get_header(request.scope, b"origin")
        if origin is None:
            if site is None:
                return  # not a browser: curl, a mobile app, a test client
            raise CSRFFailed("Cross-site requests may not log in or out.")
        sent = _normalized_origin(origin.decode("latin-1"))
        if sent is None or (sent != _own_origin(request) and sent not in self._trusted_origins):
            raise CSRFFailed("Cross-site requests may not log in or out.")

    def login_response(self, pair: TokenPair) -> Response:
        """204 setting the session cookie and the CSRF cookie."""
        response = Response(status_code=204)
        self.set_cookies(response, pair)
        return response

    def logout_response(self) -> Response:
        """204 deleting both cookies."""
        response = Response(status_code=204, headers=_NO_STORE)
        self.clear_cookies(response)
        return response

    def set_cookies(self, response: Response, pair: TokenPair) -> str:
        """Set the ``HttpOnly`` session cookie and the readable CSRF cookie on ``response``.

        Returns:
            The CSRF token, which unsafe requests must repeat in the CSRF header.
        """
        csrf = secrets.token_urlsafe(32)
        config = self.config
        common: dict[str, Any] = {
            "max_age": config.access_ttl,
            "secure": config.cookie_secure,
            "samesite": "lax",
            "domain": config.cookie_domain,
            "path": "/",
        }
        response.set_cookie(config.session_cookie, pair.access_token, httponly=True, **common)
        response.set_cookie(config.csrf_cookie, csrf, httponly=False, **common)
        response.headers["Cache-Control"] = "no-store"
        return csrf

    def clear_cookies(self, response: Response) -> None:
        """Delete both cookies on ``response``."""
        config = self.config
        for name, httponly in ((config.session_cookie, True), (config.csrf_cookie, False)):
            response.delete_cookie(
                name,
                path="/",
                domain=config.cookie_domain,
                secure=config.cookie_secure,
                httponly=httponly,
                samesite="lax",
            )


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _normalized_origin(origin: str) -> str | None:
    """``scheme://host[:port]`` lower-cased, without a default port; ``None`` if not one."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    default = _DEFAULT_PORTS.get(parts.scheme.lower())
    host = parts.hostname
    if default is None or not host or parts.path or parts.query or parts.username:
        return None
    authority = f"[{host}]" if ":" in host else host
    if port is not None and port != default:
        authority = f"{authority}:{port}"
    return f"{parts.scheme.lower()}://{authority}"


def _own_origin(request: Request) -> str | None:
    """The origin the request was sent to: its scheme and ``Host``."""
    host = get_header(request.scope, b"host")
    if host is None:
        return None
    return _normalized_origin(f"{request.scope.get('scheme', 'http')}://{host.decode('latin-1')}")
