"""OpenAPI for protected operations: the security scheme, 401/403, required roles."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi_kit._openapi import dependency_calls, documented_routes, operations_of
from fastapi_kit.auth.dependencies import get_current_user, get_optional_user
from fastapi_kit.auth.rbac import _Requirement
from fastapi_kit.errors import (
    PROBLEM_JSON,
    CSRFFailed,
    Forbidden,
    NotAuthenticated,
    problem_responses,
)

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ("describe_security",)

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def describe_security(
    app: FastAPI, document: dict[str, Any], token_url: str, cookie_name: str
) -> None:
    """Add what authentication and RBAC imply to ``app``'s OpenAPI ``document``.

    The password flow gets the configured token URL; the session cookie is declared
    as an alternative scheme of every protected operation; those list their 401,
    their 403 when they require roles or permissions (and what they require) or
    change state (the CSRF check of cookie sessions).
    """
    schemes = document.get("components", {}).get("securitySchemes", {})
    password_flow = schemes.get("OAuth2Password", {}).get("flows", {}).get("password")
    if password_flow is not None:
        password_flow["tokenUrl"] = token_url
        schemes["SessionCookie"] = {"type": "apiKey", "in": "cookie", "name": cookie_name}
    unauthorized = problem_responses(NotAuthenticated)
    for route in documented_routes(app):
        calls = list(dependency_calls(route.dependant))
        requirements = [call for call in calls if isinstance(call, _Requirement)]
        if get_current_user not in calls and get_optional_user not in calls:
            continue
        unsafe = not set(route.methods or ()) <= _SAFE_METHODS  # CSRF-checked with cookies
        for operation in operations_of(document, route):
            operation.setdefault("security", []).append({"SessionCookie": []})
            responses = operation.setdefault("responses", {})
            responses.setdefault("401", unauthorized[401])
            needed = " and ".join(requirement.describe() for requirement in requirements)
            if requirements or unsafe:
                responses.setdefault("403", _forbidden(needed))
            if requirements:
                note = f"**Requires** {needed}."
                operation["description"] = "\n\n".join(
                    part for part in (operation.get("description"), note) if part
                )


def _forbidden(needed: str) -> dict[str, Any]:
    """The 403 response: a role or permission ``needed``, or else the CSRF check."""
    response = problem_responses(Forbidden)[403]
    media = response["content"][PROBLEM_JSON]
    if needed:
        media["example"]["detail"] = f"Requires {needed}."
    else:
        media["example"] = problem_responses(CSRFFailed)[403]["content"][PROBLEM_JSON]["example"]
    return response
