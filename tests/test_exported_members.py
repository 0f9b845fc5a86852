"""The public API is explicit: every package's __all__ is exactly what it should be."""

from __future__ import annotations

import importlib
import inspect

import pytest

PUBLIC = {
    "fastapi_kit": {"Kit", "KitSettings", "__version__"},
    "fastapi_kit.errors": {
        "PROBLEM_JSON",
        "APIError",
        "BadRequest",
        "CSRFFailed",
        "Conflict",
        "Forbidden",
        "InvalidCredentials",
        "InvalidToken",
        "MethodNotAllowed",
        "NotAuthenticated",
        "NotFound",
        "PayloadTooLarge",
        "ProblemDetail",
        "ProblemResponse",
        "RateLimited",
        "ServiceUnavailable",
        "UnhandledErrorMiddleware",
        "ValidationErrorItem",
        "ValidationFailed",
        "install_error_handlers",
        "problem_response",
        "problem_responses",
    },
    "fastapi_kit.logging": {
        "REDACTED",
        "REQUEST_ID_HEADER",
        "LogFormat",
        "RequestContextMiddleware",
        "configure_logging",
        "redact_sensitive",
    },
    "fastapi_kit.security": {
        "DEFAULT_EXPOSE_HEADERS",
        "DEFAULT_MAX_BODY_SIZE",
        "DEFAULT_SECURITY_HEADERS",
        "AllowedHostsMiddleware",
        "BodySizeLimitMiddleware",
        "CORSMiddleware",
        "ProxyHeadersMiddleware",
        "SecurityHeadersMiddleware",
        "client_ip",
    },
    "fastapi_kit.health": {
        "CheckResult",
        "HealthStatus",
        "ReadinessChecks",
        "ReadinessStatus",
        "add_health_routes",
        "health_router",
    },
}


@pytest.mark.parametrize("module_name", sorted(PUBLIC))
def test_all_is_exactly_the_public_api(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert isinstance(module.__all__, tuple)
    assert set(module.__all__) == PUBLIC[module_name]
    for name in module.__all__:
        assert getattr(module, name) is not None, name


@pytest.mark.parametrize("module_name", sorted(PUBLIC))
def test_public_objects_are_documented(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert module.__doc__
    for name in module.__all__:
        member = getattr(module, name)
        if inspect.isfunction(member) or inspect.isclass(member):
            assert getattr(member, "__doc__", None), f"{module_name}.{name} has no docstring"
