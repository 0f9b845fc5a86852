"""Prometheus metrics: requests by route template, the kit's own, exact across workers.

For example:

```python
metrics = Metrics()
app.add_middleware(MetricsMiddleware, metrics=metrics)
install_metrics(app, metrics)  # GET /metrics
```

``Kit`` does this by itself unless ``METRICS_ENABLED=false``.
"""

from __future__ import annotations

from fastapi_kit.metrics.middleware import MetricsMiddleware
from fastapi_kit.metrics.registry import MULTIPROCESS_DIR_VARIABLE, UNMATCHED, Metrics
from fastapi_kit.metrics.routes import install_metrics

__all__ = (
    "MULTIPROCESS_DIR_VARIABLE",
    "UNMATCHED",
    "Metrics",
    "MetricsMiddleware",
    "install_metrics",
)
