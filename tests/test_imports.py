"""Import direction: any module imports first, on its own; blocks need only what they use."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import fastapi_kit

MODULES = sorted(
    module.name for module in pkgutil.walk_packages(fastapi_kit.__path__, "fastapi_kit.")
)
OPTIONAL = (
    "redis",
    "hiredis",
    "asyncpg",
    "aiosmtplib",
    "email_validator",
    "homoglyph",
    "pyotp",
    "cryptography",
    # The otel extra. The OpenTelemetry API itself comes with FastAPI: only the
    # packages of the extra are blocked.
    "opentelemetry.sdk",
    "opentelemetry.exporter",
    "opentelemetry.instrumentation",
)


def test_every_module_imports_first_without_a_cycle() -> None:
    # A cycle held apart by import order shows when the other side is imported first.
    code = """
import importlib, sys
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m.startswith("fastapi_kit")]:
        del sys.modules[loaded]
    importlib.import_module(name)
"""
    result = subprocess.run(
        [sys.executable, "-c", code, *MODULES], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "block", ["auth", "ratelimit", "cache", "db", "mail", "accounts", "tracing"]
)
def test_a_block_imports_without_the_optional_extras(block: str) -> None:
    blocked = "".join(f"sys.modules[{name!r}] = None\n" for name in OPTIONAL)
    code = f"import sys\n{blocked}import fastapi_kit.{block}\nimport fastapi_kit\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_ratelimiter_needs_no_other_block() -> None:
    code = "import sys, fastapi_kit.ratelimit; print(' '.join(sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    others = ("auth", "cache", "db", "logging", "health", "security", "kit")
    assert [o for o in others if f"fastapi_kit.{o}" in loaded] == []


@pytest.mark.parametrize(
    ("statement", "extra"),
    [
        ("from fastapi_kit.cache.redis import RedisCache", "redis"),
        ("from fastapi_kit.auth import RedisRevocationStore", "redis"),
        ("from fastapi_kit.ratelimit import RateLimiter; RateLimiter.from_redis(None)", "redis"),
        (
            "from fastapi_kit import Kit, KitSettings; Kit(KitSettings(redis_url='redis://x'))",
            "redis",
        ),
        ("from fastapi_kit.db import Database; Database('postgresql+asyncpg://a@b/c')", "postgres"),
        ("from fastapi_kit.mail import SMTPMailSender", "mail"),
        ("from fastapi_kit.accounts.totp import TOTP", "accounts"),
        ("from fastapi_kit.accounts.emails import email_key", "accounts"),
        ("from fastapi_kit.tracing import Tracing", "otel"),
        (
            "from fastapi_kit.tracing import span_exporters_from_env; span_exporters_from_env()",
            "otel",
        ),
        (
            (
                "from fastapi_kit import Kit, KitSettings; "
                "Kit(KitSettings(smtp_url='smtp://x')).use_mail()"
            ),
            "mail",
        ),
    ],
)
def test_a_missing_extra_says_what_to_install(statement: str, extra: str) -> None:
    blocked = "".join(f"sys.modules[{name!r}] = None\n" for name in OPTIONAL)
    code = f"import sys\n{blocked}{statement}\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.endswith(f'needs the extra: pip install "fastapi-kit[{extra}]"'), last
