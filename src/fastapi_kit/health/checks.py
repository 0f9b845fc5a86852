"""Readiness checks: named async probes run concurrently, each under a timeout."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Literal, TypeAlias

import structlog

__all__ = ("CheckResult", "ReadinessCheck", "ReadinessChecks")

#: Seconds each readiness check may take, unless configured.
DEFAULT_TIMEOUT = 2.0

CheckResult = Literal["ok", "error", "timeout"]
#: A probe: returns normally (anything but ``False``) when healthy, raises or returns
#: ``False`` when not.
ReadinessCheck: TypeAlias = Callable[[], Awaitable[object]]


class ReadinessChecks:
    """The set of probes behind ``/readyz``.

    Building blocks register theirs (the database block adds ``database``, the Redis
    backends add ``redis``); apps add their own:

    ```python
    checks = ReadinessChecks()
    checks.add("search", search_client.ping, timeout=1.0)
    ```

    Args:
        default_timeout: Seconds each probe may take unless it names its own.
    """

    def __init__(self, *, default_timeout: float = DEFAULT_TIMEOUT) -> None:
        self.default_timeout = default_timeout
        self._checks: dict[str, tuple[ReadinessCheck, float]] = {}
        self._logger = structlog.get_logger("fastapi_kit.health")

    def add(
        self,
        name: str,
        check: ReadinessCheck,
        *,
        timeout: float | None = None,
    ) -> None:
        """Register ``check`` under ``name`` (replacing a probe of the same name).

        Args:
            name: The key it reports under in ``checks``.
            check: An async callable; healthy unless it raises or returns ``False``.
            timeout: Seconds it may take; the registry's default when omitted.
        """
        self._checks[name] = (check, self.default_timeout if timeout is None else timeout)

    @property
    def names(self) -> tuple[str, ...]:
        """The registered probe names, in registration order."""
        return tuple(self._checks)

    async def run(self) -> dict[str, CheckResult]:
        """Run every probe concurrently and report ``ok``, ``error`` or ``timeout`` for each."""
        names = list(self._checks)
        results = await asyncio.gather(*(self._run_one(name) for name in names))
        return dict(zip(names, results, strict=True))

    async def _run_one(self, name: str) -> CheckResult:
        check, timeout = self._checks[name]
        try:
            async with asyncio.timeout(timeout):
                healthy = await check()
        except TimeoutError:
            self._logger.warning("readiness_check_timeout", check=name, timeout=timeout)
            return "timeout"
        except Exception as exc:  # noqa: BLE001  # any failure means "not ready"
            self._logger.warning("readiness_check_failed", check=name, error=type(exc).__name__)
            return "error"
        return "error" if healthy is False else "ok"
