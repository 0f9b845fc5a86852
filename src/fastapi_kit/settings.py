"""``KitSettings``: one settings model, read from the environment, configuring every block."""

from __future__ import annotations

import dataclasses
import importlib
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, PositiveInt, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from fastapi_kit import _validation

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ("KitSettings",)


def _owned(path: str) -> Callable[[], Any]:
    """The default the block keeps at ``path``: ``module:NAME`` or ``module:Config.field``.

    Read when settings are made, not when this module is imported: importing the
    settings loads no block, and no default is written twice.
    """
    module, _, name = path.partition(":")
    owner_name, _, field_name = name.partition(".")

    def default() -> Any:
        owner = getattr(importlib.import_module(module), owner_name)
        if not field_name:
            return owner
        return next(f.default for f in dataclasses.fields(owner) if f.name == field_name)

    return default


_AUTH = "fastapi_kit.auth.config:AuthConfig."
_DB = "fastapi_kit.db.config:DatabaseConfig."

CommaList = Annotated[list[str], NoDecode]


def _split_commas(value: Any) -> Any:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class KitSettings(BaseSettings):
    """Configuration for every building block, read from environment variables.

    Field names are the upper-case environment variables of the contract
    (``DATABASE_URL``, ``SECRET_KEY``, ``CORS_ORIGINS``...); list values are
    comma-separated. Nothing is read until you create an instance, and no ``.env``
    file is read unless you pass ``_env_file``. Invalid values fail at start-up with
    a ``ValidationError`` naming the variable.

    Each block can also be configured directly, without this class: see the
    block's own parameters. The defaults are the blocks' own (``AuthConfig``,
    ``DatabaseConfig``, ``Cache``...): this class maps variables onto them and
    restates no number, so creating an instance imports the blocks.
    """

    model_config = SettingsConfigDict(
        env_prefix="",
        case_sensitive=False,
        extra="forbid",
        validate_default=True,
        frozen=True,
        # A refused SECRET_KEY or DATABASE_URL must not be printed in the error: the
        # messages name the variable and say what is wrong, never the value.
        hide_input_in_errors=True,
    )

    # --- security-sensitive -------------------------------------------------
    secret_key: SecretStr | None = Field(
        None,
        description="Raw HS256 signing key, at least 32 bytes. Unset: a random key per "
        "process (tokens do not survive restarts or work across instances).",
    )

    # --- backends -------------------------------------------------------------
    database_url: SecretStr | None = Field(
        None,
        description="SQLAlchemy async URL, e.g. `postgresql+asyncpg://...` (secret: it "
        "may hold a password).",
    )
    db_pool_size: PositiveInt = Field(
        default_factory=_owned(_DB + "pool_size"), description="Connections the pool keeps open."
    )
    db_max_overflow: int = Field(
        default_factory=_owned(_DB + "max_overflow"),
        ge=0,
        description="Extra connections the pool may open under load.",
    )
    db_pool_timeout: float = Field(
        default_factory=_owned(_DB + "pool_timeout"),
        gt=0,
        description="Seconds a request waits for a pooled connection (then 503).",
    )
    db_pool_recycle: PositiveInt = Field(
        default_factory=_owned(_DB + "pool_recycle"),
        description="Seconds after which a pooled connection is replaced.",
    )
    db_connect_timeout: float = Field(
        default_factory=_owned(_DB + "connect_timeout"),
        gt=0,
        description="Seconds a new database connection may take.",
    )
    db_sqlite_busy_timeout: float = Field(
        default_factory=_owned(_DB + "sqlite_busy_timeout"),
        ge=0,
        description="Seconds a SQLite statement waits for another writer's lock.",
    )
    db_echo: bool = Field(
        default_factory=_owned(_DB + "echo"), description="Log every SQL statement (debugging)."
    )
    redis_url: SecretStr | None = Field(
        None,
        description="Redis URL. Set: cache, rate-limit counters and token revocation "
        "are shared through Redis. Unset: in-process memory.",
    )

    # --- auth -----------------------------------------------------------------
    access_token_ttl: PositiveInt = Field(
        default_factory=_owned(_AUTH + "access_ttl"), description="Access token lifetime, seconds."
    )
    refresh_token_ttl: PositiveInt = Field(
        default_factory=_owned(_AUTH + "refresh_ttl"),
        description="Refresh token lifetime, seconds.",
    )

    jwt_issuer: str = Field(
        default_factory=_owned(_AUTH + "issuer"),
        min_length=1,
        description="`iss` of issued tokens.",
    )
    jwt_audience: str = Field(
        default_factory=_owned(_AUTH + "audience"),
        min_length=1,
        description="`aud` of issued tokens.",
    )
    jwt_leeway: int = Field(
        default_factory=_owned(_AUTH + "leeway"),
        description="Clock skew tolerated on token times, seconds (<= 60).",
    )
    auth_token_url: str = Field(
        default_factory=_owned(_AUTH + "token_url"),
        description="The login route Swagger's Authorize button posts to.",
    )
    auth_cookie_secure: bool = Field(
        default_factory=_owned(_AUTH + "cookie_secure"),
        description="Session cookies over HTTPS only (turn off for local http).",
    )
    revocation_policy: Literal["fail_closed", "fail_open"] = Field(
        default_factory=_owned(_AUTH + "revocation_policy"),
        description="When the revocation store is down: refuse tokens (503) or accept them.",
    )
    password_hash_threads: PositiveInt = Field(
        default_factory=_owned(_AUTH + "hash_threads"),
        description="Password hashes computed at once, in worker threads.",
    )

    # --- rate limiting and caching --------------------------------------------
    rate_limit_auth: str = Field(
        default_factory=_owned("fastapi_kit.ratelimit.limiter:DEFAULT_AUTH_LIMITS"),
        description="Limit on login and registration, per IP and per account "
        "(limits' notation: '10/minute', '5/minute;100/day').",
    )
    rate_limit_default: str = Field(
        default_factory=_owned("fastapi_kit.ratelimit.limiter:DEFAULT_LIMITS"),
        description="Default budget per user (per IP when anonymous).",
    )
    rate_limit_ipv6_prefix: int = Field(
        default_factory=_owned("fastapi_kit.ratelimit.limiter:DEFAULT_IPV6_PREFIX"),
        ge=1,
        le=128,
        description="Leading bits of an IPv6 address that count as one client in "
        "per-address limits (a /64 by default: one client usually holds a whole one).",
    )
    cache_ttl: PositiveInt = Field(
        default_factory=_owned("fastapi_kit.cache.service:DEFAULT_TTL"),
        description="Seconds cached GET responses live.",
    )
    cache_max_bytes: PositiveInt = Field(
        default_factory=_owned("fastapi_kit.cache.memory:DEFAULT_MAX_BYTES"),
        description="Bytes the in-process cache may hold (without `REDIS_URL`); least "
        "recently used entries go first beyond it.",
    )

    # --- mail -----------------------------------------------------------------
    smtp_url: SecretStr | None = Field(
        None,
        description="Mail server: `smtp://user:password@host:587` (STARTTLS when "
        "offered; `?starttls=required` insists) or `smtps://host:465` (implicit TLS); "
        "`?timeout=` seconds. Unset: a start-up warning and no mail is sent. Secret: "
        "it may hold a password.",
    )
    mail_from: str = Field(
        default_factory=_owned("fastapi_kit.mail.base:DEFAULT_MAIL_FROM"),
        min_length=1,
        description="`From` address of the mail the app sends.",
    )
    public_url: str | None = Field(
        None,
        description="The app's public base URL (`https://app.example.com`), for links in mail.",
    )

    # --- accounts -------------------------------------------------------------
    verify_token_ttl: PositiveInt = Field(
        default_factory=_owned("fastapi_kit.accounts.config:AccountsConfig.verify_ttl"),
        description="Seconds an email verification link lives.",
    )
    reset_token_ttl: PositiveInt = Field(
        default_factory=_owned("fastapi_kit.accounts.config:AccountsConfig.reset_ttl"),
        description="Seconds a password reset link lives.",
    )
    require_verified_email: bool = Field(
        default_factory=_owned("fastapi_kit.accounts.config:AccountsConfig.require_verified_email"),
        description="Refuse logins to accounts whose email is not verified "
        "(403 `email_not_verified`).",
    )

    # --- HTTP hardening -------------------------------------------------------
    cors_origins: CommaList = Field(
        default_factory=list, description="Allowed CORS origins; empty disables CORS."
    )
    trusted_proxies: CommaList = Field(
        default_factory=list,
        description="IPs/CIDRs whose `X-Forwarded-For` is believed; others' is ignored.",
    )
    allowed_hosts: CommaList = Field(
        default_factory=lambda: ["*"], description="Accepted `Host` names; `*` accepts any."
    )
    max_body_size: int = Field(
        default_factory=_owned("fastapi_kit.security.body_limit:DEFAULT_MAX_BODY_SIZE"),
        ge=0,
        description="Largest accepted request body, bytes (413 above).",
    )

    # --- errors ---------------------------------------------------------------
    problem_type_base: str | None = Field(
        None,
        description="Unset: problems are `about:blank`, titled with the HTTP status "
        "phrase. Set (`https://api.example.com/problems/`): each problem's `type` is "
        "this URI followed by its `code`, and its `title` is the code's own.",
    )

    # --- logging and health ---------------------------------------------------
    log_format: Literal["json", "console"] = Field("json", description="`json` or `console`.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", description="Minimum log level."
    )
    readiness_timeout: float = Field(
        default_factory=_owned("fastapi_kit.health.checks:DEFAULT_TIMEOUT"),
        gt=0,
        description="Seconds each readiness check may take.",
    )
    access_log_exclude: CommaList = Field(
        default_factory=list,
        description="Paths neither logged nor counted in the metrics (`/healthz,/metrics`).",
    )

    # --- metrics --------------------------------------------------------------
    metrics_enabled: bool = Field(
        True, description="Serve `GET /metrics` (Prometheus) and count every request."
    )
    metrics_token: SecretStr | None = Field(
        None,
        description="Set: `/metrics` needs `Authorization: Bearer <METRICS_TOKEN>` (401 "
        "without). With several workers, also set `PROMETHEUS_MULTIPROC_DIR` (see Monitoring).",
    )

    # --- runtime --------------------------------------------------------------
    gc_freeze: bool = Field(
        True,
        description="After start-up, exempt the objects alive then from cyclic garbage "
        "collection (`gc.freeze()`): fewer and shorter GC pauses under load.",
    )

    @field_validator(
        "cors_origins", "trusted_proxies", "allowed_hosts", "access_log_exclude", mode="before"
    )
    @classmethod
    def _parse_comma_list(cls, value: Any) -> Any:
        return _split_commas(value)

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("secret_key")
    @classmethod
    def _check_secret_key(cls, value: SecretStr | None) -> SecretStr | None:
        shortest = _owned("fastapi_kit.auth.config:MIN_HMAC_KEY_BYTES")()
        if value is not None and len(value.get_secret_value().encode()) < shortest:
            msg = f"SECRET_KEY must be at least {shortest} bytes"
            raise ValueError(msg)
        return value

    @field_validator("jwt_leeway")
    @classmethod
    def _check_leeway(cls, value: int) -> int:
        longest = _owned("fastapi_kit.auth.config:MAX_LEEWAY")()
        if not 0 <= value <= longest:
            msg = f"JWT_LEEWAY must be between 0 and {longest} seconds"
            raise ValueError(msg)
        return value

    @field_validator("rate_limit_auth", "rate_limit_default")
    @classmethod
    def _check_limits(cls, value: str) -> str:
        from limits import parse_many  # the rate limiter's own parser

        parse_many(value)  # ValueError: "couldn't parse rate limit string ..."
        return value

    @field_validator("problem_type_base")
    @classmethod
    def _check_problem_type_base(cls, value: str | None) -> str | None:
        return None if value is None else _validation.problem_type_base(value)

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, value: list[str]) -> list[str]:
        return [_validation.cors_origin(origin) for origin in value]

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        return [_validation.trusted_proxy(proxy) for proxy in value]

    @field_validator("allowed_hosts")
    @classmethod
    def _check_hosts(cls, value: list[str]) -> list[str]:
        hosts = [_validation.allowed_host(host) for host in value]
        if not hosts:
            msg = "ALLOWED_HOSTS must not be empty (use '*' to accept any host)"
            raise ValueError(msg)
        return hosts
