"""The app ``test_tracing_served`` serves with uvicorn: console spans on stdout, logs on stderr."""

from __future__ import annotations

import sys

import structlog
from fastapi import FastAPI

from fastapi_kit.logging import configure_logging
from fastapi_kit.tracing import Tracing, TracingMiddleware, add_trace_ids

configure_logging("json", "INFO", stream=sys.stderr)
# What the logging block will do when tracing is on: the ids after merge_contextvars.
first, *rest = structlog.get_config()["processors"]
structlog.configure(processors=[first, add_trace_ids, *rest])

tracing = Tracing()  # OTEL_TRACES_EXPORTER=console
app = FastAPI(lifespan=tracing.lifespan)
app.add_middleware(TracingMiddleware, tracing=tracing)


@app.get("/hello/{name}")
async def hello(name: str) -> dict[str, str]:
    structlog.get_logger("served").info("said_hello", name=name)
    return {"hello": name}
