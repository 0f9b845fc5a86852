"""``/healthz`` (liveness) and ``/readyz`` (readiness) routes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from fastapi_kit.errors import ServiceUnavailable, problem_response, problem_responses

if TYPE_CHECKING:
    from fastapi_kit.health.checks import CheckResult, ReadinessChecks

__all__ = ("HealthStatus", "ReadinessStatus", "health_router")


class HealthStatus(BaseModel):
    """The liveness answer."""

    status: str = Field("ok", examples=["ok"])


class ReadinessStatus(BaseModel):
    """The readiness answer: every check passed."""

    status: str = Field("ok", examples=["ok"])
    checks: dict[str, str] = Field(examples=[{"database": "ok", "redis": "ok"}])


def health_router(
    checks: ReadinessChecks,
    *,
    liveness_path: str = "/healthz",
    readiness_path: str = "/readyz",
    retry_after: int = 5,
) -> APIRouter:
    """Build the router with the liveness and readiness endpoints.

    * ``GET /healthz`` answers ``{"status": "ok"}`` and touches nothing: it says the
      process serves requests, for a liveness probe.
    * ``GET /readyz`` runs every registered check concurrently, each under its
      timeout, and answers ``{"status": "ok", "checks": {...}}``, or a 503
      ``service_unavailable`` problem whose ``checks`` member says ``error`` or
      ``timeout`` for the failed ones, for a readiness probe.

    Args:
        checks: The registry of readiness probes.
        liveness_path: Path of the liveness endpoint.
        readiness_path: Path of the readiness endpoint.
        retry_after: ``Retry-After`` seconds sent with a failed readiness answer.
    """
    router = APIRouter(tags=["health"])

    @router.get(liveness_path, summary="Liveness probe", response_model=HealthStatus)
    async def healthz() -> HealthStatus:
        return HealthStatus()

    @router.get(
        readiness_path,
        summary="Readiness probe",
        response_model=ReadinessStatus,
        responses=problem_responses(ServiceUnavailable),
    )
    async def readyz(request: Request) -> ReadinessStatus | Response:
        results: dict[str, CheckResult] = await checks.run()
        failed = [name for name, result in results.items() if result != "ok"]
        if not failed:
            return ReadinessStatus(checks=dict(results))
        return problem_response(
            request.scope,
            ServiceUnavailable.status_code,
            detail="Not ready: " + ", ".join(failed) + ".",
            headers={"Retry-After": str(retry_after), "Cache-Control": "no-store"},
            extra={"checks": results},
        )

    return router
