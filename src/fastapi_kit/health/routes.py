"""``/healthz`` (liveness) and ``/readyz`` (readiness) routes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from fastapi_kit._openapi import add_openapi_processor
from fastapi_kit.errors import (
    ABOUT_BLANK,
    ProblemTypes,
    ServiceUnavailable,
    problem_response,
    problem_responses,
)

if TYPE_CHECKING:
    from fastapi_kit.health.checks import CheckResult, ReadinessChecks

__all__ = ("HealthStatus", "ReadinessStatus", "add_health_routes", "health_router")

#: The OpenAPI tag of both probes, and its description.
_TAG = "health"
_TAG_DESCRIPTION = "Liveness and readiness probes, for orchestrators and load balancers."


class HealthStatus(BaseModel):
    """The liveness answer."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: str = Field("ok", examples=["ok"])


# Liveness answers are all the same: the body is rendered once.
_HEALTHY_BODY = HealthStatus().model_dump_json().encode()


class ReadinessStatus(BaseModel):
    """The readiness answer: every check passed."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "ok", "checks": {"database": "ok"}}]}
    )

    status: str = Field("ok", examples=["ok"])
    checks: dict[str, str] = Field(examples=[{"database": "ok", "redis": "ok"}])


def health_router(
    checks: ReadinessChecks,
    *,
    liveness_path: str = "/healthz",
    readiness_path: str = "/readyz",
    retry_after: int = 5,
    problem_types: ProblemTypes = ABOUT_BLANK,
) -> APIRouter:
    """Build an ``APIRouter`` with the liveness and readiness endpoints.

    See [`add_health_routes`][fastapi_kit.health.add_health_routes] for what they
    answer; this is the same, packaged for ``app.include_router``.
    """
    router = APIRouter()
    add_health_routes(
        router,
        checks,
        liveness_path=liveness_path,
        readiness_path=readiness_path,
        retry_after=retry_after,
        problem_types=problem_types,
    )
    return router


def add_health_routes(
    app: FastAPI | APIRouter,
    checks: ReadinessChecks,
    *,
    liveness_path: str = "/healthz",
    readiness_path: str = "/readyz",
    retry_after: int = 5,
    problem_types: ProblemTypes = ABOUT_BLANK,
) -> None:
    """Add the liveness and readiness endpoints to ``app`` (or a router).

    * ``GET /healthz`` answers ``{"status": "ok"}`` and touches nothing: it says the
      process serves requests, for a liveness probe.
    * ``GET /readyz`` runs every registered check concurrently, each under its
      timeout, and answers ``{"status": "ok", "checks": {...}}``, or a 503
      ``service_unavailable`` problem whose ``checks`` member says ``error`` or
      ``timeout`` for the failed ones, for a readiness probe.

    Registering on the app itself (as ``Kit`` does) rather than through an included
    router spares FastAPI a level of routing on every probe; on an app, the routes'
    ``health`` tag also gets a description in OpenAPI, unless ``openapi_tags`` has one.

    Args:
        app: The application or router to add the routes to.
        checks: The registry of readiness probes.
        liveness_path: Path of the liveness endpoint.
        readiness_path: Path of the readiness endpoint.
        retry_after: ``Retry-After`` seconds sent with a failed readiness answer.
        problem_types: How the failed answer's ``type`` and ``title`` are named.
    """

    async def healthz() -> Response:
        return Response(_HEALTHY_BODY, media_type="application/json")

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
            types=problem_types,
        )

    app.add_api_route(
        liveness_path,
        healthz,
        methods=["GET"],
        summary="Liveness probe",
        response_model=HealthStatus,
        tags=[_TAG],
    )
    app.add_api_route(
        readiness_path,
        readyz,
        methods=["GET"],
        summary="Readiness probe",
        response_model=ReadinessStatus,
        responses=problem_responses(ServiceUnavailable),
        tags=[_TAG],
    )
    if isinstance(app, FastAPI):
        add_openapi_processor(app, "health", _describe_tag)


def _describe_tag(document: dict[str, Any]) -> None:
    """Describe the ``health`` tag in ``document``, unless the app already does."""
    tags: list[dict[str, Any]] = document.setdefault("tags", [])
    for tag in tags:
        if tag.get("name") == _TAG:
            tag["description"] = tag.get("description") or _TAG_DESCRIPTION
            return
    tags.append({"name": _TAG, "description": _TAG_DESCRIPTION})
