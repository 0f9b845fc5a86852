"""Tracing with OpenTelemetry: server spans, database and Redis spans, trace ids in logs.

Needs the ``otel`` extra (``pip install "fastapi-kit[otel]"``), and is configured by
OpenTelemetry's standard variables only (``OTEL_SERVICE_NAME``,
``OTEL_TRACES_EXPORTER``, ``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_TRACES_SAMPLER``, ...).
Importing this package imports no OpenTelemetry package: the names needing the extra
load on first use.

```python
from fastapi import FastAPI
from fastapi_kit.tracing import Tracing, TracingMiddleware

tracing = Tracing()
app = FastAPI(lifespan=tracing.lifespan)
app.add_middleware(TracingMiddleware, tracing=tracing)
```

Log lines get the ids of the current span with the structlog processor
[`add_trace_ids`][fastapi_kit.tracing.add_trace_ids].
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi_kit._lazy import lazy_exports
from fastapi_kit.tracing.config import tracing_requested

if TYPE_CHECKING:
    from fastapi_kit.tracing.exporters import span_exporters_from_env
    from fastapi_kit.tracing.logs import add_trace_ids
    from fastapi_kit.tracing.middleware import TracingMiddleware
    from fastapi_kit.tracing.service import Tracing

__all__ = (
    "Tracing",
    "TracingMiddleware",
    "add_trace_ids",
    "span_exporters_from_env",
    "tracing_requested",
)

__getattr__ = lazy_exports(
    __name__,
    {
        "Tracing": "fastapi_kit.tracing.service",
        "TracingMiddleware": "fastapi_kit.tracing.middleware",
        "add_trace_ids": "fastapi_kit.tracing.logs",
        "span_exporters_from_env": "fastapi_kit.tracing.exporters",
    },
)
