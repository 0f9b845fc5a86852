"""One guard for the optional extras: a missing package names the extra to install.

Every import of a package of an extra (``redis`` and ``hiredis``, ``asyncpg``, ``aiosmtplib``,
the account packages, the OpenTelemetry SDK, exporter and instrumentations) in the kit
happens inside ``optional_extra``, as pydantic-settings guards its YAML support:

```python
with optional_extra("redis"):
    from redis.exceptions import RedisError
```
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ("Extra", "optional_extra")

#: The optional extras, by what they add.
Extra = Literal["redis", "postgres", "mail", "accounts", "otel"]
_WHAT = {
    "redis": "Redis support",
    "postgres": "PostgreSQL support",
    "mail": "Mail delivery",
    "accounts": "Accounts",
    "otel": "Tracing",
}
_PACKAGES = {
    "redis": ("redis", "hiredis"),
    "postgres": ("asyncpg",),
    "mail": ("aiosmtplib",),
    "accounts": ("email_validator", "homoglyph", "pyotp", "cryptography"),
    # The OpenTelemetry API comes with FastAPI: a missing SDK or instrumentation
    # package is seen as a missing ``opentelemetry`` submodule.
    "otel": ("opentelemetry",),
}


@contextmanager
def optional_extra(extra: Extra) -> Iterator[None]:
    """Turn a missing package of ``extra`` into an ``ImportError`` that says what to install.

    Raises:
        ImportError: A package of the extra is missing: ``pip install
            "fastapi-kit[redis]"`` (or ``[postgres]``, ``[mail]``, ``[accounts]``,
            ``[otel]``) in the message.
    """
    try:
        yield
    except ImportError as exc:
        missing = (exc.name or "").partition(".")[0]
        if missing not in _PACKAGES[extra]:
            raise
        msg = f'{_WHAT[extra]} needs the extra: pip install "fastapi-kit[{extra}]"'
        raise ImportError(msg, name=exc.name) from exc
