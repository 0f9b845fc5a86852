"""The public API is explicit: every package's __all__ is exactly what it should be."""

from __future__ import annotations

import importlib
import inspect

import pytest

PUBLIC = {
    "fastapi_kit": {"Kit", "KitSettings", "__version__"},
    "fastapi_kit.context": {
        "Authenticator",
        "RequestContext",
        "lifespan_authenticator",
        "lifespan_service",
        "published",
        "published_authenticator",
    },
    "fastapi_kit.errors": {
        "ABOUT_BLANK",
        "PROBLEM_JSON",
        "APIError",
        "BadRequest",
        "BadToken",
        "CSRFFailed",
        "Conflict",
        "EmailNotVerified",
        "Forbidden",
        "IncorrectPassword",
        "InvalidCredentials",
        "InvalidToken",
        "MFARequired",
        "MethodNotAllowed",
        "NotAuthenticated",
        "NotFound",
        "PayloadTooLarge",
        "ProblemDetail",
        "ProblemResponse",
        "ProblemTypes",
        "RateLimited",
        "ServiceUnavailable",
        "UnhandledErrorMiddleware",
        "ValidationErrorItem",
        "ValidationFailed",
        "install_error_handlers",
        "problem_catalogue",
        "problem_response",
        "problem_responses",
        "status_phrase",
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
        "DOCS_ASSETS_PACKAGE",
        "DEFAULT_MAX_BODY_SIZE",
        "DEFAULT_SECURITY_HEADERS",
        "AllowedHostsMiddleware",
        "BodySizeLimitMiddleware",
        "CORSMiddleware",
        "ProxyHeadersMiddleware",
        "SecurityHeadersMiddleware",
        "client_ip",
        "describe_body_limit",
        "install_offline_docs",
    },
    "fastapi_kit.db": {
        "MAX_OFFSET",
        "NAMING_CONVENTION",
        "Base",
        "Database",
        "DatabaseBusy",
        "DatabaseConfig",
        "DatabaseUnavailable",
        "DbSession",
        "IntegrityViolation",
        "Page",
        "PageParams",
        "Pagination",
        "TimestampMixin",
        "UTCDateTime",
        "UnstorableValue",
        "get_database",
        "get_db_session",
        "integrity_violation",
        "paginate",
        "translate_error",
        "utcnow",
    },
    "fastapi_kit.ratelimit": {
        "AppLimits",
        "Budget",
        "FailurePolicy",
        "Hit",
        "KeyFunc",
        "Limit",
        "RateLimitExceeded",
        "RateLimitHeadersMiddleware",
        "RateLimiter",
        "WindowState",
        "auth_limits",
        "client_ip",
        "client_network",
        "default_limit",
        "default_limits",
        "exempt",
        "form_field",
        "from_slowapi",
        "get_rate_limiter",
        "install_rate_limiter",
        "limit",
        "login_limit",
        "user_id",
        "user_or_ip",
    },
    "fastapi_kit.cache": {
        "Cache",
        "CacheBackend",
        "CacheDep",
        "CacheError",
        "CacheMiddleware",
        "MemoryCache",
        "RedisCache",
        "cached",
        "conditional",
        "etag_for",
        "etag_matches",
        "get_cache",
        "invalidate",
    },
    "fastapi_kit.testing": {"app_client", "auth_headers", "override_current_user", "token_user"},
    "fastapi_kit.auth": {
        "MAX_LEEWAY",
        "Auth",
        "AuthConfig",
        "BearerTransport",
        "CookieTransport",
        "CryptContextHasher",
        "CurrentUser",
        "JWTStrategy",
        "LoginUser",
        "MemoryRevocationStore",
        "OptionalUser",
        "PasswordHasher",
        "PasswordLoginForm",
        "PasswordLoginRequest",
        "PasswordPolicy",
        "PermissionRequirement",
        "Purpose",
        "PurposeTokens",
        "RedisRevocationStore",
        "RevocationStoreError",
        "RolePolicy",
        "RoleRequirement",
        "SigningKey",
        "Strategy",
        "TokenClaims",
        "TokenPair",
        "TokenResponse",
        "TokenRevocationStore",
        "TokenService",
        "TokenUser",
        "Transport",
        "UserLoader",
        "UserLookup",
        "UserProtocol",
        "get_auth",
        "get_current_user",
        "get_optional_user",
        "hash_password",
        "install_auth",
        "require_permission",
        "require_role",
        "require_same_origin",
        "validate_password",
        "verify_and_update",
        "verify_password",
    },
    "fastapi_kit.accounts": {
        "TOTP",
        "AccountMails",
        "AccountUser",
        "Accounts",
        "AccountsConfig",
        "MailTemplate",
        "RecoveryCodes",
        "SQLAlchemyUserStore",
        "TOTPEnrolment",
        "UserMixin",
        "UserRead",
        "UserStore",
        "UserStoreDependency",
        "account_routers",
        "auth_router",
        "email_key",
        "get_accounts",
        "normalize_email",
        "register_router",
        "reset_password_router",
        "users_router",
        "verify_router",
    },
    "fastapi_kit.metrics": {
        "MULTIPROCESS_DIR_VARIABLE",
        "UNMATCHED",
        "Metrics",
        "MetricsMiddleware",
        "install_metrics",
    },
    "fastapi_kit.tracing": {
        "Tracing",
        "TracingMiddleware",
        "add_trace_ids",
        "span_exporters_from_env",
        "tracing_requested",
    },
    "fastapi_kit.mail": {
        "DEFAULT_MAIL_FROM",
        "MailMessage",
        "MailSender",
        "MemoryMailSender",
        "NullMailSender",
        "SMTPMailSender",
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


@pytest.mark.parametrize(
    ("block", "others"),
    [
        ("fastapi_kit.errors", ("logging", "security", "health", "db", "kit", "settings")),
        ("fastapi_kit.logging", ("errors", "security", "health", "db", "kit", "settings")),
        ("fastapi_kit.settings", ("errors", "logging", "security", "health", "db", "kit")),
        ("fastapi_kit.db", ("logging", "security", "health", "kit", "auth")),
        ("fastapi_kit.auth", ("logging", "security", "health", "kit", "db", "cache")),
        ("fastapi_kit.cache", ("logging", "security", "health", "kit", "db", "auth")),
        ("fastapi_kit.testing", ("logging", "security", "health", "kit", "db")),
        ("fastapi_kit.mail", ("logging", "security", "health", "kit", "db", "auth", "cache")),
    ],
)
def test_a_block_imports_no_block_it_does_not_need(block: str, others: tuple[str, ...]) -> None:
    import subprocess
    import sys

    code = f"import sys, {block}; print(' '.join(sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert [f"fastapi_kit.{other}" for other in others if f"fastapi_kit.{other}" in loaded] == []


@pytest.mark.parametrize(
    "module_name",
    [
        "fastapi_kit",
        "fastapi_kit.auth",
        "fastapi_kit.cache",
        "fastapi_kit.mail",
        "fastapi_kit.testing",
    ],
)
def test_unknown_attributes_of_lazy_packages_are_attribute_errors(module_name: str) -> None:
    module = importlib.import_module(module_name)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = module.Nope
