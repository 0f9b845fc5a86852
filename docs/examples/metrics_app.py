"""Metrics without ``Kit``: the middleware, the route, the pool gauge."""

# --8<-- [start:app]
from fastapi import FastAPI

from fastapi_kit.db import Database
from fastapi_kit.metrics import Metrics, MetricsMiddleware, install_metrics

database = Database("sqlite+aiosqlite:///./metrics-example.db")
metrics = Metrics()
app = FastAPI(lifespan=metrics.lifespan)  # cleans dead workers' gauges (multiprocess)


@app.get("/books/{book_id}")
async def book(book_id: int) -> dict[str, int]:
    """One book."""
    return {"id": book_id}


app.add_middleware(MetricsMiddleware, metrics=metrics)  # added last: outermost
install_metrics(app, metrics)  # GET /metrics
metrics.watch_pool(database.engine)  # fastapi_kit_db_pool_connections
# --8<-- [end:app]
