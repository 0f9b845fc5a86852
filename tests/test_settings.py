"""KitSettings: environment variables of the contract, validated at start-up."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from fastapi_kit import KitSettings

SECRET = "s" * 32


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in KitSettings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def test_defaults_match_the_contract() -> None:
    settings = KitSettings()
    assert settings.secret_key is None
    assert settings.redis_url is None
    assert settings.access_token_ttl == 900
    assert settings.refresh_token_ttl == 1_209_600
    assert settings.rate_limit_auth == "10/minute"
    assert settings.rate_limit_default == "300/minute"
    assert settings.cache_ttl == 60
    assert settings.cors_origins == []
    assert settings.trusted_proxies == []
    assert settings.allowed_hosts == ["*"]
    assert settings.max_body_size == 1024 * 1024
    assert settings.log_format == "json"
    assert settings.log_level == "INFO"


def test_values_come_from_the_contract_env_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "SECRET_KEY": SECRET,
        "DATABASE_URL": "postgresql+asyncpg://kit:pw@db/kit",
        "REDIS_URL": "redis://:pw@cache:6379/0",
        "ACCESS_TOKEN_TTL": "300",
        "REFRESH_TOKEN_TTL": "3600",
        "RATE_LIMIT_AUTH": "5/minute",
        "RATE_LIMIT_DEFAULT": "100/minute;1000/day",
        "CACHE_TTL": "30",
        "CORS_ORIGINS": "https://app.example.com, http://localhost:5173",
        "TRUSTED_PROXIES": "10.0.0.0/8,192.0.2.1",
        "ALLOWED_HOSTS": "api.example.com,*.example.org",
        "LOG_FORMAT": "Console",
        "LOG_LEVEL": "debug",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = KitSettings()
    assert settings.secret_key is not None
    assert settings.secret_key.get_secret_value() == SECRET
    assert settings.database_url is not None
    assert settings.database_url.get_secret_value().endswith("@db/kit")
    assert settings.access_token_ttl == 300
    assert settings.refresh_token_ttl == 3600
    assert settings.rate_limit_default == "100/minute;1000/day"
    assert settings.cache_ttl == 30
    assert settings.cors_origins == ["https://app.example.com", "http://localhost:5173"]
    assert settings.trusted_proxies == ["10.0.0.0/8", "192.0.2.1"]
    assert settings.allowed_hosts == ["api.example.com", "*.example.org"]
    assert settings.log_format == "console"
    assert settings.log_level == "DEBUG"


def test_secrets_never_show_in_repr_or_dumps() -> None:
    settings = KitSettings(
        secret_key=SECRET,  # type: ignore[arg-type]
        database_url="postgresql+asyncpg://kit:dbpass@db/kit",  # type: ignore[arg-type]
        redis_url="redis://:redispass@cache/0",  # type: ignore[arg-type]
    )
    for text in (repr(settings), str(settings), settings.model_dump_json()):
        assert SECRET not in text
        assert "dbpass" not in text
        assert "redispass" not in text


def test_a_refused_secret_is_never_printed_in_the_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SECRET_KEY", "a-secret-but-too-short-by-one-!")
    with pytest.raises(ValidationError, match="SECRET_KEY must be at least 32 bytes") as caught:
        KitSettings()
    assert "a-secret-but" not in str(caught.value)  # what a traceback prints


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SECRET_KEY", "too-short", "at least 32 bytes"),
        ("TRUSTED_PROXIES", "proxy.internal", "not an IP address"),
        ("CORS_ORIGINS", "https://app.example.com/", "CORS origin"),
        ("ALLOWED_HOSTS", "api.example.com:443", "allowed host"),
        ("ALLOWED_HOSTS", ",", "must not be empty"),
        ("LOG_FORMAT", "xml", "log_format"),
        ("LOG_LEVEL", "LOUD", "log_level"),
        ("ACCESS_TOKEN_TTL", "0", "access_token_ttl"),
        ("CACHE_TTL", "soon", "cache_ttl"),
        ("MAX_BODY_SIZE", "-1", "max_body_size"),
        ("RATE_LIMIT_DEFAULT", "lots", "couldn't parse rate limit string"),
        ("RATE_LIMIT_AUTH", "10/fortnight", "no granularity matched for fortnight"),
    ],
)
def test_invalid_values_fail_with_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=message):
        KitSettings()


def test_unknown_keyword_is_refused() -> None:
    with pytest.raises(ValidationError, match="extra"):
        KitSettings(secret_kye=SECRET)  # type: ignore[call-arg]


def test_settings_are_immutable() -> None:
    settings = KitSettings()
    with pytest.raises(ValidationError, match="frozen"):
        settings.cache_ttl = 5  # type: ignore[misc]


def test_importing_the_package_reads_no_environment() -> None:
    # An invalid environment only fails when settings are created, not at import.
    result = subprocess.run(
        [sys.executable, "-c", "import fastapi_kit, fastapi_kit.kit; print('imported')"],
        env={"SECRET_KEY": "short", "LOG_FORMAT": "xml", "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported"
