"""Health endpoints: ``/healthz`` for liveness, ``/readyz`` running registered checks.

Use it alone:

```python
from fastapi import FastAPI
from fastapi_kit.health import ReadinessChecks, health_router

checks = ReadinessChecks()
app = FastAPI()
app.include_router(health_router(checks))
```
"""

from __future__ import annotations

from fastapi_kit.health.checks import CheckResult, ReadinessChecks
from fastapi_kit.health.routes import (
    HealthStatus,
    ReadinessStatus,
    add_health_routes,
    health_router,
)

__all__ = (
    "CheckResult",
    "HealthStatus",
    "ReadinessChecks",
    "ReadinessStatus",
    "add_health_routes",
    "health_router",
)
