"""The health endpoints on their own, without Kit."""

from fastapi import FastAPI

from fastapi_kit.errors import install_error_handlers
from fastapi_kit.health import ReadinessChecks, health_router


async def search_is_up() -> bool:
    """A probe: healthy unless it raises or returns False."""
    return True


checks = ReadinessChecks(default_timeout=1.0)
checks.add("search", search_is_up, timeout=0.5)

app = FastAPI()
install_error_handlers(app)  # so that a failed readiness answer is a problem
app.include_router(health_router(checks))
